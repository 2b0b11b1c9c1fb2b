import json

import pytest

from paddle_supernet.cli import main
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.spaces import get_space


def test_sample_proxy_score_pipeline(tmp_path, capsys):
    archs, params, macs = tmp_path / "archs.json", tmp_path / "params.json", tmp_path / "macs.json"
    assert main(["sample", "--space", "cvpr22_resnet48", "--n", "40", "--seed", "5", "--out", str(archs)]) == 0
    entries = read_arch_file(archs, get_space("cvpr22_resnet48"))
    assert len({e.arch for e in entries.values()}) == 40 and all(e.acc == 0.0 for e in entries.values())
    assert '"acc": 0.0' in archs.read_text()
    for proxy, out in (("params", params), ("macs", macs)):
        assert main(["proxy", "--space", "cvpr22_resnet48", "--proxy", proxy, "--archs", str(archs), "--out", str(out)]) == 0
    space = get_space("cvpr22_resnet48")
    assert {k: e.acc for k, e in read_arch_file(macs).items()} == {k: float(space.macs(e.arch)) for k, e in entries.items()}
    capsys.readouterr()
    assert main(["score", "--submission", f"p={params}", "--gt", str(macs), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["p"]["n"] == 40
    from scipy.stats import kendalltau
    p_scores = [space.params(e.arch) for e in entries.values()]
    m_scores = [space.macs(e.arch) for e in entries.values()]
    assert result["p"]["kendall"] == pytest.approx(kendalltau(p_scores, m_scores)[0])


def test_sample_is_reproducible(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        main(["sample", "--space", "cvpr21_resnet20", "--n", "10", "--seed", "1", "--out", str(out)])
    assert a.read_bytes() == b.read_bytes()


def test_score_against_real_ground_truth_prints_table(tmp_path, cvpr21_gt, capsys):
    out = tmp_path / "params.json"
    assert main(["proxy", "--space", "cvpr21_resnet20", "--proxy", "params", "--archs", str(cvpr21_gt), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["score", "--submission", str(out), "--gt", str(cvpr21_gt)]) == 0
    table = capsys.readouterr().out
    assert "| name | n | Kendall" in table and "| 1000 |" in table
    kendall = float(table.strip().splitlines()[-1].split("|")[3])
    assert kendall == pytest.approx(0.59, abs=0.01)  # the protocol's params-proxy figure


@pytest.mark.parametrize("argv, message", [
    (["sample", "--space", "nope", "--n", "3", "--out", "{out}"], "unknown search space 'nope'"),
    (["proxy", "--space", "cvpr22_resnet48", "--proxy", "params", "--archs", "{bad}", "--out", "{out}"],
     "bad.json: arch1: arch code '4-4' must be exactly 52 digits"),
    (["proxy", "--space", "cvpr21_resnet20", "--proxy", "params", "--archs", "{empty}", "--out", "{out}"],
     "empty.json: file is empty"),
])
def test_bad_input_one_error_nonzero_exit_no_output(tmp_path, capsys, argv, message):
    (tmp_path / "bad.json").write_text('{"arch1": {"acc": 0, "arch": "4-4"}}')
    (tmp_path / "empty.json").write_text("")
    paths = {"out": tmp_path / "out.json", "bad": tmp_path / "bad.json", "empty": tmp_path / "empty.json"}
    assert main([a.format(**paths) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.json").exists()


def test_proxy_counts_the_options_enhanced_network(tmp_path):
    space = get_space("cvpr21_resnet20")
    archs = tmp_path / "a.json"
    main(["sample", "--space", "cvpr21_resnet20", "--n", "5", "--seed", "0", "--out", str(archs)])
    out = tmp_path / "p.json"
    assert main(["proxy", "--space", "cvpr21_resnet20", "--proxy", "params", "--archs", str(archs),
                 "--width-map", "4:5,8:9", "--prelu", "--out", str(out)]) == 0
    for key, entry in read_arch_file(out).items():
        assert entry.acc == space.params(entry.arch, width_map={4: 5, 8: 9}, prelu=True)
    assert main(["proxy", "--space", "cvpr21_resnet20", "--proxy", "params", "--archs", str(archs),
                 "--width-map", "4=5", "--out", str(tmp_path / "x.json")]) == 2


def test_pure_python_core_never_imports_paddle(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from paddle_supernet.cli import main; "
            f"main(['sample', '--space', 'cvpr22_resnet48', '--n', '3', '--out', r'{tmp_path / 'a.json'}']); "
            "import paddle_supernet.spaces, paddle_supernet.metrics, paddle_supernet.proxies; "
            "print(sorted(m for m in ('paddle', 'paddleslim') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip().endswith("[]"), out.stdout + out.stderr


def test_version(capsys):
    from paddle_supernet import __version__
    from paddle_supernet.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"paddle-supernet {__version__}"


def test_width_map_is_refused_for_a_space_without_it(tmp_path, capsys):
    from paddle_supernet.cli import main

    assert main(["sample", "--space", "cvpr22_resnet48", "--n", "3", "--out", str(tmp_path / "a.json")]) == 0
    argv = ["proxy", "--space", "cvpr22_resnet48", "--proxy", "params", "--archs", str(tmp_path / "a.json"),
            "--width-map", "4:5", "--out", str(tmp_path / "p.json")]
    assert main(argv) == 2
    assert "cvpr22_resnet48 has neither" in capsys.readouterr().err and not (tmp_path / "p.json").exists()


def test_every_argument_of_every_subcommand_has_help():
    import argparse

    from paddle_supernet.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {action.dest}" for name, sub in subparsers.choices.items() for action in sub._actions
               if not isinstance(action, argparse._HelpAction) and not action.help]
    assert missing == []
    assert "cvpr22_resnet48" in subparsers.choices["proxy"].format_help()  # --space lists the spaces


def test_evaluate_set_refuses_keys_outside_eval_and_data_location(capsys):
    from paddle_supernet.cli import main

    assert main(["evaluate", "--checkpoint", "x", "--archs", "y", "--out", "z", "--set", "model.width_map={4: 5}"]) == 2
    assert "--set model.width_map: evaluate may override eval.* and data.root, data.workers only" in capsys.readouterr().err


def _keep_lists(tmp_path):
    """A 40-arch source list and a 5-arch list of its keys 3, 9, ..., 27 (codes as in the source)."""
    from paddle_supernet.io.challenge_json import ArchEntry, write_arch_file

    space = get_space("cvpr21_resnet20")
    source = {f"arch{i + 1}": ArchEntry(code, 0.0) for i, code in enumerate(space.sample_unique(40, 3))}
    kept = {k: source[k] for k in ("arch3", "arch9", "arch15", "arch21", "arch27")}
    write_arch_file(tmp_path / "source.json", source)
    write_arch_file(tmp_path / "kept.json", kept)
    return space, source, kept


def test_sample_keep_keeps_a_list_and_picks_the_rest_at_macs_quantiles(tmp_path):
    space, source, kept = _keep_lists(tmp_path)
    out = tmp_path / "out.json"
    assert main(["sample", "--space", "cvpr21_resnet20", "--n", "6", "--from", str(tmp_path / "source.json"),
                 "--keep", str(tmp_path / "kept.json"), "--out", str(out)]) == 0
    chosen = read_arch_file(out, space)
    rest = sorted((space.macs(source[k].arch), int(k[4:]), k) for k in source if k not in kept)
    expected = {rest[i][2] for i in (0, 7, 14, 20, 27, 34)}  # round(linspace(0, 34, 6))
    assert set(chosen) == set(kept) | expected and len(chosen) == 11
    assert list(chosen) == sorted(chosen, key=lambda k: int(k[4:]))  # the source list's order
    assert all(chosen[k].arch == source[k].arch for k in chosen)


@pytest.mark.parametrize("edit, message", [
    (lambda kept, source: kept.update(arch99=source["arch1"]), "kept.json: arch99: is not in the --from list"),
    (lambda kept, source: kept.update(arch3=source["arch4"]), "kept.json: arch3: has code"),
])
def test_sample_keep_refuses_archs_not_in_the_source_list(tmp_path, capsys, edit, message):
    from paddle_supernet.io.challenge_json import write_arch_file

    space, source, kept = _keep_lists(tmp_path)
    edit(kept, source)
    write_arch_file(tmp_path / "kept.json", kept)
    assert main(["sample", "--space", "cvpr21_resnet20", "--n", "6", "--from", str(tmp_path / "source.json"),
                 "--keep", str(tmp_path / "kept.json"), "--out", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "out.json").exists()
