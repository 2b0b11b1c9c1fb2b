import json

import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import (ArchEntry, arch_list_from_codes, dumps_arch_list, merge_parts,
                                               read_arch_file, with_scores, write_arch_file)
from paddle_supernet.spaces import get_space


@pytest.mark.parametrize("fixture", ["cvpr21_archs", "cvpr22_archs", "cvpr21_gt"])
def test_official_files_round_trip_byte_for_byte(fixture, request, tmp_path):
    path = request.getfixturevalue(fixture)
    out = tmp_path / "copy.json"
    write_arch_file(out, read_arch_file(path))
    assert out.read_bytes() == path.read_bytes()


def test_submission_bytes_equal_json_dumps(tmp_path):
    codes = [get_space("cvpr21_resnet20").sample(0, step=i) for i in range(12)]
    sub = with_scores(arch_list_from_codes(codes), {f"arch{i}": i * 0.5 for i in range(1, 13)})
    write_arch_file(tmp_path / "s.json", dict(reversed(list(sub.items()))))  # order restored on write
    expected = json.dumps({f"arch{i}": {"acc": i * 0.5, "arch": codes[i - 1]} for i in range(1, 13)})
    assert (tmp_path / "s.json").read_text() == expected
    assert list(read_arch_file(tmp_path / "s.json")) == [f"arch{i}" for i in range(1, 13)]


@pytest.mark.parametrize("text, message", [
    ("", "file is empty"),
    ("[1, 2]", "top level must be a JSON object"),
    ("{}", "contains no archs"),
    ('{"arch1": {"acc": 0, "arch": "x"', "not valid JSON"),
    ('{"first": {"acc": 0, "arch": "x"}}', "key 'first' is not of the form arch<N>"),
    ('{"arch01": {"acc": 0, "arch": "x"}}', "key 'arch01'"),
    ('{"arch1": {"acc": 0}}', r'arch1: value must be an object with exactly the keys "acc" and "arch"'),
    ('{"arch1": {"acc": "high", "arch": "x"}}', 'arch1: "acc" must be a number'),
    ('{"arch1": {"acc": NaN, "arch": "x"}}', "not valid JSON"),
    ('{"arch1": {"acc": 1, "arch": 5}}', 'arch1: "arch" must be a string'),
])
def test_bad_files_name_file_key_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        read_arch_file(path)
    assert str(path) in str(err.value)


def test_invalid_code_names_file_and_key(tmp_path):
    path = tmp_path / "list.json"
    path.write_text('{"arch1": {"acc": 0, "arch": "4-4"}}')
    with pytest.raises(InputError, match=r"list.json: arch1: arch code '4-4' has 2 fields"):
        read_arch_file(path, get_space("cvpr21_resnet20"))


def test_missing_file():
    with pytest.raises(InputError, match="nowhere.json: file not found"):
        read_arch_file("nowhere.json")


def test_non_finite_score_refused_and_old_file_kept(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("old")
    with pytest.raises(InputError, match="must be finite"):
        write_arch_file(path, {"arch1": ArchEntry("a", float("inf"))})
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def _write(path, rows):
    write_arch_file(path, {k: ArchEntry(code, acc) for k, (code, acc) in rows.items()})
    return path


def test_merge_parts(tmp_path):
    a = _write(tmp_path / "a.json", {"arch1": ("x", 0.1), "arch3": ("z", 0.3)})
    b = _write(tmp_path / "b.json", {"arch2": ("y", 0.2)})
    merged = merge_parts([a, b])
    assert dumps_arch_list(merged) == json.dumps({"arch1": {"acc": 0.1, "arch": "x"}, "arch2": {"acc": 0.2, "arch": "y"},
                                                  "arch3": {"acc": 0.3, "arch": "z"}})
    ref = {"arch1": ArchEntry("x"), "arch2": ArchEntry("y"), "arch3": ArchEntry("z"), "arch4": ArchEntry("w")}
    with pytest.raises(InputError, match="1 keys missing.*arch4"):
        merge_parts([a, b], ref)
    with pytest.raises(InputError, match="1 keys missing.*arch2"):
        merge_parts([a])
    dup = _write(tmp_path / "dup.json", {"arch2": ("y", 0.2)})
    with pytest.raises(InputError, match=r"dup.json: arch2: duplicate key, already given by .*b.json"):
        merge_parts([a, b, dup])
    wrong = _write(tmp_path / "wrong.json", {"arch2": ("q", 0.2)})
    with pytest.raises(InputError, match=r"wrong.json: arch2: arch 'q' differs from 'y'"):
        merge_parts([a, wrong], {k: v for k, v in ref.items() if k != "arch4"})


def test_written_files_get_the_umask_mode(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        write_arch_file(tmp_path / "m.json", {"arch1": ArchEntry("a", 1.0)})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644


def test_duplicate_keys_are_refused(tmp_path):
    from paddle_supernet.io.challenge_json import read_arch_file

    path = tmp_path / "dup.json"
    path.write_text('{"arch1": {"acc": 0, "arch": "a"}, "arch2": {"acc": 1, "arch": "b"}, "arch1": {"acc": 2, "arch": "c"}}')
    with pytest.raises(InputError, match=r"dup.json: arch1: appears twice in the file"):
        read_arch_file(path)


def test_bad_output_paths_are_one_clear_error_and_leave_nothing(tmp_path):
    from paddle_supernet.io.atomic import atomic_open, atomic_write_text

    with pytest.raises(InputError, match=f"{tmp_path}: is a directory"):
        atomic_write_text(tmp_path, "x")
    (tmp_path / "file").write_text("keep")
    with pytest.raises(InputError, match=r"file/sub/out.json: cannot write here"):
        atomic_write_text(tmp_path / "file" / "sub" / "out.json", "x")
    with pytest.raises(RuntimeError):
        with atomic_open(tmp_path / "new" / "deeper" / "out.json") as handle:
            handle.write("partial")
            raise RuntimeError("killed while writing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no half-made folders, no temporary files
