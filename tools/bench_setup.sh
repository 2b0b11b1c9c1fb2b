# Sourced from the repository root by the benchmark scripts: installs the package and the embedded
# default data (tools/install.sh --data) and sets PYTHON to the interpreter they were installed into
# (tools/python.sh: the project's .venv where the system Python refuses pip installs).
bash tools/install.sh --data
source tools/python.sh
choose_python
