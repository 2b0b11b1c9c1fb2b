from pathlib import Path

import numpy as np
import pytest

from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
from paddle_supernet.metrics import ranking_metrics
from paddle_supernet.spaces import get_space
from paddle_supernet.tables import seed_rows, seed_table


def _write_scores(path, codes, values) -> str:
    """A submission-format file ``arch1``.. with ``codes`` scored ``values`` (folders made); its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_arch_file(path, {f"arch{i + 1}": ArchEntry(c, float(v)) for i, (c, v) in enumerate(zip(codes, values))})
    return str(path)


def test_seed_rows_average_and_spread(tmp_path):
    space = get_space("cvpr21_resnet20")
    codes = space.sample_unique(20, seed=1)
    rng = np.random.default_rng(0)
    truth = rng.normal(size=20)

    def write(name, values):
        return _write_scores(tmp_path / f"{name}.json", codes, values)

    gt = write("gt", truth)
    seeds = [write("g0", truth + rng.normal(0, 0.1, 20)), write("g1", truth + rng.normal(0, 0.1, 20))]
    subs = [write("a", truth + rng.normal(0, 0.5, 20)), write("b", truth + rng.normal(0, 0.5, 20))]
    rows = seed_rows({"method": subs}, gt)
    k = [ranking_metrics(read_arch_file(p), read_arch_file(gt))["kendall"] for p in subs]
    assert rows["method"]["kendall"] == pytest.approx((np.mean(k), abs(k[0] - k[1]) / 2))
    table = seed_table({"method": subs}, gt, seeds, "cvpr21_resnet20", 10)
    assert f"| method | 2 | {np.mean(k):.4f} ± {abs(k[0] - k[1]) / 2:.4f} |" in table
    assert "| params proxy | - |" in table and "| seed-to-seed ceiling | - |" in table
    # restricted to the first ten archs, every line is scored on those alone
    keys = [f"arch{i + 1}" for i in range(10)]
    first = {k: v for k, v in read_arch_file(gt).items() if k in keys}
    k10 = [ranking_metrics(read_arch_file(p), first)["kendall"] for p in subs]
    assert f"| method | 2 | {np.mean(k10):.4f} ± {abs(k10[0] - k10[1]) / 2:.4f} |" in \
        seed_table({"method": subs}, gt, seeds, "cvpr21_resnet20", 10, keys)
    method_line = next(line for line in table.splitlines() if line.startswith("| method |"))
    assert method_line.count("±") == 5  # Kendall, Pearson, Spearman, top-10%, Pearson beyond size


def test_group_section_shows_finished_rows_and_names_the_pending_ones(tmp_path):
    from paddle_supernet.errors import InputError
    from paddle_supernet.table_bench import TableBench, TableRow
    from paddle_supernet.tables import group_section

    space = get_space("cvpr21_resnet20")
    codes = space.sample_unique(12, seed=2)
    rng = np.random.default_rng(1)
    truth = rng.normal(size=12)

    def write(path, values):
        _write_scores(path, codes, values)

    bench, kept = tmp_path / "bench", tmp_path / "bench" / "tables"
    for name in ("gt", "gt.seed0", "gt.seed1"):
        write(bench / f"{name}.json", truth + (0 if name == "gt" else rng.normal(0, 0.1, 12)))
    rows = [TableRow("done", "c.yaml", "a_seed{seed}", "x"), TableRow("half", "c.yaml", "b_seed{seed}", "y"),
            TableRow("later", "c.yaml", "c_seed{seed}", "z")]
    args = ("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h"), "tool", "cvpr21_resnet20", 10)
    with pytest.raises(InputError, match="no row of group g has a finished submission kept"):
        group_section(*args)
    for path in (kept / "a_seed0/x.json", kept / "a_seed1/x.json", kept / "b_seed1/y.json"):
        write(path, truth + rng.normal(0, 0.3, 12))
    section = group_section(*args)
    assert "| done | 2 |" in section and "| half | 1 |" in section and "| later |" not in section
    assert "Not finished yet (rows shown with the seeds done so far, or left out): half; later." in section


def _bench_with_rows(tmp_path, n=24):
    """A ground truth (gt, two seeds) of ``n`` archs and three seeds' submissions of a baseline and a
    better method, plus an anchor file; returns (bench, run root, codes, truth)."""
    space = get_space("cvpr21_resnet20")
    codes = space.sample_unique(n, seed=3)
    rng = np.random.default_rng(4)
    truth = rng.normal(size=n)
    bench, runs = tmp_path / "bench", tmp_path / "runs"
    for name in ("gt", "gt.seed0", "gt.seed1"):
        _write_scores(bench / f"{name}.json", codes, truth + (0 if name == "gt" else rng.normal(0, 0.2, n)))
    for seed in (0, 1):
        _write_scores(runs / f"base_seed{seed}/b/submission.json", codes, truth + rng.normal(0, 1.5, n))
        _write_scores(runs / f"good_seed{seed}/g/submission.json", codes, truth + rng.normal(0, 0.3, n))
    _write_scores(runs / "anchor/submission.json", codes, truth + rng.normal(0, 1.0, n))
    return bench, runs, codes, truth


def test_group_section_compares_every_row_with_the_reference_and_the_anchor(tmp_path):
    from paddle_supernet.bootstrap import kendall, paired_difference
    from paddle_supernet.table_bench import TableBench, TableRow
    from paddle_supernet.table_runs import keep_submissions
    from paddle_supernet.tables import group_section

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    rows = [TableRow("base", "c.yaml", "base_seed{seed}", "b"), TableRow("good", "c.yaml", "good_seed{seed}", "g")]
    kept = bench / "tables"
    keep_submissions(rows, [0, 1], runs, kept, ("start", str(runs / "anchor/submission.json")))
    anchor = ("start", str(kept / "anchor.json"))
    section = group_section("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h"), "tool",
                            "cvpr21_resnet20", 10, reference="base", anchor=anchor, resamples=200)

    def scores(path):
        sub = read_arch_file(path)
        return [sub[f"arch{i + 1}"].acc for i in range(len(codes))]

    good = [scores(runs / f"good_seed{s}/g/submission.json") for s in (0, 1)]
    base = [scores(runs / f"base_seed{s}/b/submission.json") for s in (0, 1)]
    expected = paired_difference(good, base, truth, kendall, resamples=200)  # the same RNG stream
    line = next(line for line in section.splitlines() if line.startswith("| good |"))
    assert str(expected) in line and expected.separated and "Kendall better" in line
    assert any(line.startswith("| start | 1 |") for line in section.splitlines())  # the anchor is a row too
    # the anchor table: each seed's Kendall with the anchor's scores, computed here independently
    anchor_scores = scores(runs / "anchor/submission.json")
    from scipy import stats

    per_seed = ", ".join(f"{stats.kendalltau(g, anchor_scores)[0]:.3f}" for g in good)
    assert f"| good | {per_seed} |" in section
    # before the reference is finished: the plain tables and a note
    (kept / "base_seed0/b.json").unlink()
    (kept / "base_seed1/b.json").unlink()
    plain = group_section("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h"), "tool",
                          "cvpr21_resnet20", 10, reference="base", anchor=anchor, resamples=200)
    assert "appear once it is finished" in plain and "| good | 2 |" in plain and "[95%]" not in plain


def test_read_table_bench_reads_the_file_and_names_bad_keys(tmp_path):
    from paddle_supernet.errors import InputError
    from paddle_supernet.table_bench import read_table_bench

    folder = tmp_path / "b"
    folder.mkdir()
    path = folder / "tables.yaml"
    path.write_text("heading: |\n  # T\n\n  text\nrun_root: runs/t\nvariant: {image_size: 16}\n"
                    "set: [optimizer.lr_scale=4, eval.archs=benchmarks/x/archs.json]\n")
    bench = read_table_bench(folder)
    assert (bench.folder, bench.run_root, bench.heading, bench.variant) == (folder, "runs/t", "# T\n\ntext",
                                                                          {"image_size": 16})
    assert bench.overrides == ("optimizer.lr_scale=4", "eval.archs=benchmarks/x/archs.json")
    assert (bench.every_stage, bench.shared_root) == ((), None)
    path.write_text("heading: h\nrun_root: r\nset_all: [data.image_size=32]\nshared_root: runs/at32\n")
    assert (read_table_bench(folder).every_stage, read_table_bench(folder).shared_root) == \
        (("data.image_size=32",), "runs/at32")
    path.write_text("heading: h\nrun_root: r\nsecond_truth: {label: ImageNet, path: ../in.json}\n")
    assert read_table_bench(folder).second_truth == {"label": "ImageNet", "path": "../in.json"}
    for text, key, problem in [
            ("heading: h\nrun_root: r\nsets: []\n", "sets", "unknown key"),
            ("heading: h\n", "run_root", "missing"),
            ("heading: h\nrun_root: /abs\n", "run_root", "relative"),
            ("heading: h\nrun_root: r\nset: optimizer.lr=1\n", "set", "must be a list"),
            ("heading: h\nrun_root: r\nset: [optimizer.lr_scale=-1]\n", "set[0]", ""),
            ("heading: h\nrun_root: r\nset: [optimiser.lr=1]\n", "set[0]", ""),
            ("heading: h\nrun_root: r\nset_all: [data.image_size=32]\n", "shared_root", "give shared_root"),
            ("heading: h\nrun_root: r\nshared_root: runs/a\nset_all: [data.imagesize=32]\n", "set_all[0]", ""),
            ("heading: h\nrun_root: r\nsecond_truth: {label: L}\n", "second_truth", "needs a label and a path"),
            ("heading: h\nrun_root: r\nsecond_truth: {label: L, path: x.json, seeds: 2}\n", "second_truth",
             "got seeds: 2"),
            ("heading: h\nrun_root: r\nsecond_truth: {label: L, path: /x.json}\n", "second_truth.path",
             "relative"),
            ("heading: h\nrun_root: r\nsecond_truth: {label: L, path: x.json, num_classes: many}\n", "second_truth",
             "got num_classes: 'many'")]:
        path.write_text(text)
        with pytest.raises(InputError) as info:
            read_table_bench(folder)
        assert info.value.file == str(path) and info.value.key == key and problem in info.value.problem


def test_run_chains_passes_the_twin_rule_to_every_chain(tmp_path, monkeypatch):
    import paddle_supernet.table_runs as table_runs
    from paddle_supernet.table_bench import TableRow

    commands = []
    monkeypatch.setattr(table_runs.subprocess, "call", lambda argv, **kwargs: commands.append(argv) or 0)
    rows = [TableRow("a", "x.yaml", "x_seed{seed}", "s1"), TableRow("b", "x.yaml", "x_seed{seed}", "s2"),
            TableRow("c", "y.yaml", "y_seed{seed}", "s")]
    assert table_runs.run_chains(rows, [0, 1], tmp_path, tmp_path, "py", ("optimizer.lr_scale=4", "eval.note=a b"),
                             ("data.image_size=32",), "runs/at32") == [0, 0]
    assert len(commands) == 4  # one per distinct chain and seed, not per row
    for seed in (0, 1):
        for chain in ("x", "y"):
            assert ["py", "-m", "paddle_supernet", "chain", "--chain", f"{chain}.yaml", "--set", f"seed={seed}",
                    "--set", "optimizer.lr_scale=4", "--set", "eval.note=a b", "--set-all", "data.image_size=32",
                    "--shared-root", "runs/at32", "--run-root", f"{tmp_path}/{chain}_seed{seed}"] in commands
    # chains run in order within a seed, and the first failure stops that seed
    commands.clear()
    monkeypatch.setattr(table_runs.subprocess, "call", lambda argv, **kwargs: commands.append(argv) or 3)
    assert table_runs.run_chains(rows, [0], tmp_path, tmp_path, "py") == [3] and len(commands) == 1


def test_run_chains_keeps_each_chain_as_it_finishes_and_a_fresh_checkout_skips_kept_chains(tmp_path, monkeypatch,
                                                                                           capsys):
    import paddle_supernet.table_runs as table_runs
    from paddle_supernet.table_bench import TableRow

    runs, kept, ran = tmp_path / "runs", tmp_path / "kept", []

    def chain(argv, **kwargs):  # a chain run: writes the submissions of its evaluated stages
        run_root = Path(argv[argv.index("--run-root") + 1])
        stages = {"x.yaml": ("s1", "s2"), "y.yaml": ("s",)}[argv[argv.index("--chain") + 1]]
        if ran and any(r[0] == "y.yaml" for r in ran):
            assert (kept / "x_seed0" / "s2.json").exists()  # x was kept before y started
        ran.append((argv[argv.index("--chain") + 1], run_root.name))
        for stage in stages:
            (run_root / stage).mkdir(parents=True, exist_ok=True)
            (run_root / stage / "submission.json").write_text(f"{run_root.name} {stage}\n")
        return 0

    monkeypatch.setattr(table_runs.subprocess, "call", chain)
    rows = [TableRow("a", "x.yaml", "x_seed{seed}", "s1"), TableRow("b", "x.yaml", "x_seed{seed}", "s2"),
            TableRow("c", "y.yaml", "y_seed{seed}", "s")]
    runs.mkdir()
    assert table_runs.run_chains(rows, [0], runs, tmp_path, "py", kept=kept) == [0]
    assert ran == [("x.yaml", "x_seed0"), ("y.yaml", "y_seed0")]
    out = capsys.readouterr().out  # a line per chain, then the whole run's progress with its rate and ETA
    assert "[tables] x.yaml seed 0: done\n[tables] 1/2 (50.0%)" in out and "[tables] 2/2 (100.0%)" in out
    assert (kept / "x_seed0/s1.json").read_bytes() == (runs / "x_seed0/s1/submission.json").read_bytes()
    # a fresh checkout: no run folders, the kept submissions committed; only the chain with a row not kept runs
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (kept / "x_seed0/s2.json").unlink()
    ran.clear()
    assert table_runs.run_chains(rows, [0], fresh, tmp_path, "py", kept=kept) == [0]
    assert ran == [("x.yaml", "x_seed0")] and (kept / "x_seed0/s2.json").read_text() == "x_seed0 s2\n"
    assert "[tables] 2/2 (100.0%)" in capsys.readouterr().out  # the kept chain counts as done


def test_keep_submissions_copies_finished_rows_byte_for_byte_once(tmp_path):
    from paddle_supernet.table_bench import TableRow
    from paddle_supernet.table_runs import keep_submissions

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    rows = [TableRow("base", "c.yaml", "base_seed{seed}", "b"), TableRow("later", "c.yaml", "later_seed{seed}", "l")]
    kept = tmp_path / "kept"
    anchor = ("start", str(runs / "anchor/submission.json"))
    written = keep_submissions(rows, [0, 1], runs, kept, anchor)
    assert sorted(p.relative_to(kept).as_posix() for p in written) == ["anchor.json", "base_seed0/b.json",
                                                                      "base_seed1/b.json"]
    assert (kept / "base_seed1/b.json").read_bytes() == (runs / "base_seed1/b/submission.json").read_bytes()
    assert keep_submissions(rows, [0, 1], runs, kept, anchor) == []  # unchanged files are not rewritten


def test_the_table_command_writes_its_group_section_under_the_benchmarks_heading_and_keeps_the_runs(
        tmp_path, monkeypatch):
    from paddle_supernet.table_bench import TableRow
    from paddle_supernet.table_runs import run_table_main
    from paddle_supernet.tables import section_mark

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    (bench / "tables.yaml").write_text(f"heading: '# My table'\nrun_root: {runs.name}\n")
    rows = [TableRow("base", "c.yaml", "base_seed{seed}", "b"), TableRow("good", "c.yaml", "good_seed{seed}", "g")]
    groups = {"one": rows, "two": rows[:1]}
    made = []

    def anchor(table_bench, run_root, make):
        made.append(make)
        return "start", str(run_root / "anchor" / "submission.json")

    def command(group):
        monkeypatch.setattr("sys.argv", ["tool", "--group", group, "--bench", "b", "--tables-only"])
        return run_table_main(doc="d", tool="tool", groups=groups, titles={"one": "One", "two": "Two"},
                              default_group="one", benches={"b": bench}, tables_file="t.md",
                              space="cvpr21_resnet20", num_classes=10, repo=tmp_path, reference="base",
                              anchor=anchor, resamples=200)

    assert command("two") == 0 and command("one") == 0
    assert made == [False, False]  # --tables-only makes nothing
    text = (bench / "t.md").read_text()
    assert text.startswith("# My table\n\n" + section_mark("one"))  # sections in the groups' order
    assert text.index(section_mark("one")) < text.index(section_mark("two"))
    assert "| good | 2 |" in text and "| start | 1 |" in text
    for kept, run in (("base_seed1/b.json", "base_seed1/b/submission.json"), ("anchor.json", "anchor/submission.json")):
        assert (bench / "tables" / kept).read_bytes() == (runs / run).read_bytes()
    monkeypatch.setattr("sys.argv", ["tool", "--bench", "nope", "--tables-only"])
    with pytest.raises(SystemExit):  # an unknown benchmark is refused by the command line
        run_table_main(doc="d", tool="tool", groups=groups, titles={}, default_group="one", benches={"b": bench},
                       tables_file="t.md", space="cvpr21_resnet20", num_classes=10, repo=tmp_path)


def test_the_twin_check_runs_only_the_reference_row_and_prints_its_kendall_with_the_anchor(tmp_path, monkeypatch, capsys):
    import scipy.stats

    import paddle_supernet.table_runs as table_runs
    from paddle_supernet.table_bench import TableRow
    from paddle_supernet.io.challenge_json import read_arch_file

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    for name in ("gt.json", "gt.seed0.json", "gt.seed1.json"):
        (bench / name).unlink()  # the check needs no ground truth
    (bench / "tables.yaml").write_text(f"heading: '# h'\nrun_root: {runs.name}\nset: [optimizer.lr_scale=0.5]\n")
    ran = []
    monkeypatch.setattr(table_runs, "run_chains", lambda rows, seeds, *rest: ran.append(([r.label for r in rows], seeds, rest[3]))
                        or [0] * len(seeds))
    made = []

    def anchor(table_bench, run_root, make):
        made.append(make)
        return "start", str(run_root / "anchor" / "submission.json")

    rows = [TableRow("base", "c.yaml", "base_seed{seed}", "b"), TableRow("good", "c.yaml", "good_seed{seed}", "g")]
    monkeypatch.setattr("sys.argv", ["tool", "--bench", "b", "--twin-check"])
    assert table_runs.run_table_main(doc="d", tool="tool", groups={"one": rows}, titles={"one": "One"}, default_group="one",
                                 benches={"b": bench}, tables_file="t.md", space="cvpr21_resnet20", num_classes=10,
                                 repo=tmp_path, reference="base", anchor=anchor) == 0
    assert ran == [(["base"], [0, 1], ("optimizer.lr_scale=0.5",))]
    assert made == [False]  # the anchor is already scored in the run root: not scored again
    assert not (bench / "t.md").exists()  # no table written; the two runs' submissions kept, as the tables keep them
    assert sorted(p.relative_to(bench / "tables").as_posix() for p in (bench / "tables").rglob("*.json")) == [
        "anchor.json", "base_seed0/b.json", "base_seed1/b.json"]
    start = read_arch_file(runs / "anchor/submission.json")
    expected = []
    for seed in (0, 1):
        row = read_arch_file(runs / f"base_seed{seed}/b/submission.json")
        expected.append(scipy.stats.kendalltau([row[k].acc for k in start], [start[k].acc for k in start])[0])
    out = capsys.readouterr().out
    assert "with `optimizer.lr_scale=0.5`" in out
    assert f"| base | {expected[0]:.3f}, {expected[1]:.3f} |" in out


def test_the_anchor_is_scored_only_when_neither_its_run_nor_its_kept_copy_has_it(tmp_path):
    from paddle_supernet.table_bench import TableBench
    from paddle_supernet.table_runs import anchor_kept_path, kept_anchor

    made, runs, kept = [], tmp_path / "runs", tmp_path / "kept"

    def anchor(table_bench, run_root, make):
        made.append(make)
        return "start", str(run_root / "anchor" / "submission.json")

    bench = TableBench(tmp_path, "runs", "# h")
    assert kept_anchor(anchor, bench, runs, kept, False) == ("start", str(runs / "anchor/submission.json"))
    assert made == [False]  # --tables-only: never scored
    made.clear()
    kept_anchor(anchor, bench, runs, kept, True)
    assert made == [False, True]  # neither copy: scored
    made.clear()
    assert anchor_kept_path(kept, str(runs / "anchor/submission.json")) == kept / "anchor.json"
    kept.mkdir()
    (kept / "anchor.json").write_text("{}")
    kept_anchor(anchor, bench, runs, kept, True)
    assert made == [False]  # a fresh checkout with the kept copy: not scored again


def test_the_pretrained_network_is_scored_with_the_twin_rules_eval_values_only(tmp_path):
    from conftest import load_tool

    from paddle_supernet.table_bench import TableBench

    module = load_tool("cvpr22_tables")
    bench = TableBench(tmp_path / "b", "runs", "# h", None,
                       ("eval.archs=benchmarks/b/archs.json", "data.batch_size=64", "eval.backend=shared_inference"))
    command = module.evaluate_command(bench, "ck.pdparams", tmp_path / "out.json")
    assert command[1:] == ["-m", "paddle_supernet", "evaluate", "--checkpoint", "ck.pdparams", "--archs",
                           str(tmp_path / "b" / "archs.json"), "--out", str(tmp_path / "out.json"),
                           "--set", "eval.backend=shared_inference"]


def test_group_section_also_compares_the_rows_on_a_second_truth(tmp_path):
    from scipy import stats

    from paddle_supernet.errors import InputError
    from paddle_supernet.table_bench import TableBench, TableRow
    from paddle_supernet.table_runs import keep_submissions
    from paddle_supernet.tables import group_section

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    rows = [TableRow("base", "c.yaml", "base_seed{seed}", "b"), TableRow("good", "c.yaml", "good_seed{seed}", "g")]
    kept = bench / "tables"
    keep_submissions(rows, [0, 1], runs, kept)
    other = np.random.default_rng(9).normal(size=10)  # a truth of its own over the first 10 archs
    _write_scores(tmp_path / "shared" / "other.json", codes[:10], other)
    second = {"label": "the other truth", "path": "../shared/other.json"}
    section = group_section("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h", second_truth=second),
                            "tool", "cvpr21_resnet20", 10, reference="base", resamples=200)
    tail = section.split("### Against the other truth")[1]
    assert "over the 10 archs that `other.json` holds" in tail and "the network that truth trained (10 classes)" in tail

    def first10(path):
        sub = read_arch_file(path)
        return [sub[f"arch{i + 1}"].acc for i in range(10)]

    good = [stats.kendalltau(first10(runs / f"good_seed{s}/g/submission.json"), other)[0] for s in (0, 1)]
    line = next(line for line in tail.splitlines() if line.startswith("| good | 2 |"))
    assert line.split(" | ")[2] == f"{np.mean(good):.3f} ± {abs(good[0] - good[1]) / 2:.3f}"
    assert "seed-to-seed" not in tail  # one truth, no seeds: no ceiling line
    # an absent file is said, not an error; a truth of archs the benchmark lacks is one clear error
    absent = group_section("g", "title", rows, [0, 1], kept,
                           TableBench(bench, "runs", "# h", second_truth={**second, "path": "nope.json"}),
                           "tool", "cvpr21_resnet20", 10, reference="base", resamples=100)
    assert "The comparison with the other truth is left out: `nope.json` is not here." in absent
    _write_scores(tmp_path / "shared" / "other.json", get_space("cvpr21_resnet20").sample_unique(40, seed=8)[-5:],
                  other[:5])
    with pytest.raises(InputError, match="second_truth.path: holds 5 archs the benchmark does not"):
        group_section("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h", second_truth=second),
                      "tool", "cvpr21_resnet20", 10, reference="base", resamples=100)


def test_group_section_says_which_paper_orderings_reproduce_on_both_truths(tmp_path):
    from paddle_supernet.paper_claims import PaperClaim, claims_markdown
    from paddle_supernet.table_bench import TableBench, TableRow
    from paddle_supernet.table_runs import keep_submissions
    from paddle_supernet.tables import group_section

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    rows = [TableRow("base", "c.yaml", "base_seed{seed}", "b"), TableRow("good", "c.yaml", "good_seed{seed}", "g")]
    kept = bench / "tables"
    keep_submissions(rows, [0, 1], runs, kept)
    _write_scores(tmp_path / "shared" / "other.json", codes[:10], truth[:10])
    second = {"label": "the other truth", "path": "../shared/other.json"}
    claims = [PaperClaim("good", "base", "kendall", (0.86, 0.85), "Table 1")]
    section = group_section("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h", second_truth=second),
                            "tool", "cvpr21_resnet20", 10, reference="base", resamples=200, claims=claims)
    tail = section.split("### The paper's orderings")[1]
    subs = {label: [str(kept / f"{label}_seed{s}" / f"{stage}.json") for s in (0, 1)]
            for label, stage in (("base", "b"), ("good", "g"))}
    expected = claims_markdown(claims, subs, [("`gt.json` (24 archs)", str(bench / "gt.json")),
                                              ("`other.json` (10 archs)", str(tmp_path / "shared" / "other.json"))], 200)
    assert expected in tail and "| good > base | Kendall 0.86 vs 0.85 (Table 1) |" in tail
    without = group_section("g", "title", rows, [0, 1], kept, TableBench(bench, "runs", "# h"), "tool",
                            "cvpr21_resnet20", 10, reference="base", resamples=200)
    assert "paper's orderings" not in without


def test_the_summary_gives_every_rows_kendall_and_difference_on_both_truths_once(tmp_path):
    from scipy import stats

    from paddle_supernet.bootstrap import kendall, paired_difference
    from paddle_supernet.errors import InputError
    from paddle_supernet.paper_claims import PaperClaim, claims_markdown
    from paddle_supernet.table_bench import TableBench, TableRow
    from paddle_supernet.table_runs import keep_submissions, summary

    bench, runs, codes, truth = _bench_with_rows(tmp_path)
    base = TableRow("base", "c.yaml", "base_seed{seed}", "b")
    groups = {"one": [base, TableRow("good", "c.yaml", "good_seed{seed}", "g")],
              "two": [base, TableRow("later", "c.yaml", "later_seed{seed}", "z")]}  # base twice, later not run
    kept = bench / "tables"
    keep_submissions(groups["one"], [0, 1], runs, kept, ("start", str(runs / "anchor/submission.json")))
    other = np.random.default_rng(9).normal(size=10)
    _write_scores(tmp_path / "shared" / "other.json", codes[:10], other)
    table_bench = TableBench(bench, "runs", "# h", second_truth={"label": "o", "path": "../shared/other.json"})

    def anchor(b, root, make):
        return "start", str(root / "anchor" / "submission.json")

    text = summary(groups, [0, 1], kept, table_bench, "cvpr21_resnet20", 10, "base", anchor, runs, resamples=200)
    lines = text.splitlines()
    assert lines[0] == ("| row | seeds | Kendall on `gt.json` (24 archs) | - base [95%] | "
                        "Kendall on `other.json` (10 archs) | - base [95%] |")
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| base", "| good", "| start", "| params proxy",
                                                          "| MACs proxy"]

    def scores(label, stage, n):
        subs = [read_arch_file(runs / f"{label}_seed{s}/{stage}/submission.json") for s in (0, 1)]
        return [np.array([sub[f"arch{i + 1}"].acc for i in range(n)]) for sub in subs]

    good, ref = scores("good", "g", 10), scores("base", "b", 10)
    expected = paired_difference(good, ref, other, kendall, resamples=200)
    own = np.mean([stats.kendalltau(g, other)[0] for g in good])
    cells = lines[3].split(" | ")
    assert cells[1] == "2" and cells[4] == f"{own:.3f}" and cells[5].strip("* |") == str(expected)
    assert lines[4].split(" | ")[1] == "1"  # the anchor: one submission for all seeds
    assert "paper's orderings" not in text
    claims = {"one": [PaperClaim("good", "base", "kendall", (0.86, 0.85), "Table 1")],
              "two": [PaperClaim("later", "base", "kendall", (0.9, 0.85), "Table 2")]}
    with_claims = summary(groups, [0, 1], kept, table_bench, "cvpr21_resnet20", 10, "base", anchor, runs,
                          resamples=200, claims=claims)
    subs = {label: [str(kept / f"{label}_seed{s}" / f"{stage}.json") for s in (0, 1)]
            for label, stage in (("base", "b"), ("good", "g"))}
    expected = claims_markdown(claims["one"] + claims["two"], subs,
                               [("`gt.json` (24 archs)", str(bench / "gt.json")),
                                ("`other.json` (10 archs)", str(tmp_path / "shared" / "other.json"))], 200)
    assert with_claims.startswith(text) and with_claims.endswith(expected)
    assert "| later > base | Kendall 0.9 vs 0.85 (Table 2) | - | pending |" in with_claims
    with pytest.raises(InputError, match="which has no kept submission yet"):
        summary(groups, [0, 1], kept, table_bench, "cvpr21_resnet20", 10, "later", anchor, runs, resamples=50)


@pytest.mark.parametrize("tool", ["cvpr21_tables", "cvpr22_tables"])
def test_every_table_row_is_an_evaluated_stage_of_its_chain(tool):
    import yaml
    from conftest import load_tool

    repo = Path(__file__).resolve().parents[1]
    for group, rows in load_tool(tool).GROUPS.items():
        for row in rows:
            chain = yaml.safe_load((repo / row.chain).read_text())
            assert row.stage in [stage["name"] for stage in chain["stages"]], (group, row)
            assert row.stage in chain.get("evaluate", []), (group, row)
