"""The shell scripts run Python the way the quick start does, so that they also work on a stock Debian."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for folder in ("benchmarks", "tools") for p in (REPO / folder).rglob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_a_script_runs_the_project_through_the_interpreter_install_sh_chose(script):
    """Under PEP 668 tools/install.sh installs into the project's .venv, where a bare ``python3`` finds
    nothing: a script that runs the package or a tool sources tools/python.sh (or tools/bench_setup.sh,
    which installs and then sources it) and calls ``$PYTHON``."""
    code = [line for line in script.read_text().splitlines() if not line.lstrip().startswith("#")]
    bare = [line.strip() for line in code if re.search(r"\bpython3? +(-m +paddle_supernet|tools/)", line)]
    assert bare == [], f"{script.name} runs the project with a bare python3: {bare}"
    if any("$PYTHON" in line for line in code) and script.name != "python.sh":
        assert any(re.match(r"\s*(source|\.) +\S*(python|bench_setup)\.sh", line) for line in code), \
            f"{script.name} uses $PYTHON without sourcing tools/python.sh"
