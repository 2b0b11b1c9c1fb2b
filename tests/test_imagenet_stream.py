"""ImageNet-style folders streamed through paddle.io.DataLoader: labels, transforms, determinism, errors."""
import numpy as np
import pytest
from PIL import Image

from paddle_supernet.data import load_dataset
from paddle_supernet.data.imagenet import random_resized_crop_box
from paddle_supernet.errors import InputError

CLASSES = ("cat", "dog", "eel")


def _folder(root, val_classes=CLASSES, n=4, size=(20, 14)):
    for split, classes in (("train", CLASSES), ("val", val_classes)):
        for c, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                value = 40 * CLASSES.index(name) + 5 * i
                pixels = np.full((size[1], size[0], 3), value, np.uint8)
                pixels[:, : size[0] // 2, 0] = 255  # left half red: shows a flip
                Image.fromarray(pixels).save(folder / f"{i}.JPEG", quality=100)
    return root


def _cfg(root, **extra):
    return {"name": "imagenet", "root": str(root), "image_size": 8, "resize": 10, "crop_scale": [0.08, 1.0],
            "workers": 0, "train_subset": None, "val_subset": None, "subset_seed": 0, "mean": None, "std": None, **extra}


def test_val_labels_follow_the_training_class_list(tmp_path):
    _folder(tmp_path, val_classes=("cat", "eel"))  # 'dog' missing from val must not shift 'eel'
    train, val = load_dataset(_cfg(tmp_path))
    assert train.num_classes == val.num_classes == 3
    labels = np.concatenate([y.numpy() for _, y in val.eval_batches(5)])
    assert labels.tolist() == [0] * 4 + [2] * 4


def test_eval_transform_is_resize_then_centre_crop(tmp_path):
    _folder(tmp_path)
    _, val = load_dataset(_cfg(tmp_path, mean=[0, 0, 0], std=[1, 1, 1]))
    images, _ = next(iter(val.eval_batches(4)))
    # independent computation with PIL: short side 14 -> 10 (20 -> 14), centre 8x8
    img = Image.open(tmp_path / "val" / "cat" / "0.JPEG").convert("RGB").resize((14, 10), Image.BILINEAR)
    expected = np.asarray(img, np.float32)[1:9, 3:11].transpose(2, 0, 1) / 255.0
    np.testing.assert_allclose(images.numpy()[0], expected, atol=1 / 255 + 1e-6)


def test_train_batches_are_a_function_of_seed_epoch_step_and_shard(tmp_path):
    _folder(tmp_path)
    train, _ = load_dataset(_cfg(tmp_path, workers=1))
    a = train.train_batches(4, None, seed=3)
    b = train.train_batches(4, None, seed=3)
    first = [a.batch(0, s)[0].numpy() for s in range(3)]
    np.testing.assert_array_equal(b.batch(0, 2)[0].numpy(), first[2])  # a resumed run: straight to step 2
    assert not np.array_equal(first[0], train.train_batches(4, None, seed=4).batch(0, 0)[0].numpy())
    halves = [train.train_batches(4, None, seed=3, shard=(r, 2)).batch(0, 1) for r in range(2)]
    full_images, full_labels = a.batch(0, 1)
    np.testing.assert_array_equal(halves[0][0].numpy(), full_images.numpy()[0::2])
    np.testing.assert_array_equal(halves[1][1].numpy(), full_labels.numpy()[1::2])
    assert a.steps_per_epoch == 3


def test_two_views_stream_the_single_view_batch_then_independent_crops(tmp_path):
    _folder(tmp_path)
    train, _ = load_dataset(_cfg(tmp_path))
    one_images, one_labels = train.train_batches(4, None, seed=3).batch(1, 2)
    two_images, two_labels = train.train_batches(4, None, seed=3, views=2).batch(1, 2)
    assert two_images.shape[0] == 8 and two_labels.numpy().tolist() == one_labels.numpy().tolist()
    np.testing.assert_array_equal(two_images.numpy()[:4], one_images.numpy())
    assert not np.array_equal(two_images.numpy()[4:], one_images.numpy())
    rank1 = train.train_batches(4, None, seed=3, shard=(1, 2), views=2).batch(1, 2)[0].numpy()
    np.testing.assert_array_equal(rank1, np.concatenate([two_images.numpy()[1:4:2], two_images.numpy()[5:8:2]]))


def test_calibration_set_is_fixed_and_decoded_once(tmp_path, monkeypatch):
    _folder(tmp_path)
    train, _ = load_dataset(_cfg(tmp_path))
    calib = train.calibration_batches(5, 2, seed=1)
    first = [x.numpy() for x in calib]
    monkeypatch.setattr(train.decode, "image", lambda *a: pytest.fail("decoded again"))
    assert [x.shape[0] for x in first] == [2, 2, 1]
    assert all(np.array_equal(x.numpy(), y) for x, y in zip(calib, first))


def test_random_resized_crop_box_stays_inside_and_covers_its_scale():
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = random_resized_crop_box(rng, 50, 30, scale=(0.2, 0.6))
        assert 0 <= top and top + h <= 30 and 0 <= left and left + w <= 50
        assert 0.2 * 1500 * 0.8 <= h * w <= 0.6 * 1500 * 1.2


@pytest.mark.parametrize("damage, message", [
    ("val_class", "class 'fox' is not among the 3 training classes"),
    ("empty", "empty class folder"),
    ("no_train", "folder not found"),
])
def test_bad_folders_are_refused_naming_the_path(tmp_path, damage, message):
    _folder(tmp_path)
    if damage == "val_class":
        (tmp_path / "val" / "fox").mkdir()
        Image.new("RGB", (4, 4)).save(tmp_path / "val" / "fox" / "a.JPEG")
    elif damage == "empty":
        (tmp_path / "train" / "zebra").mkdir()
    else:
        import shutil
        shutil.rmtree(tmp_path / "train")
    with pytest.raises(InputError, match=message):
        load_dataset(_cfg(tmp_path))


def test_corrupt_image_names_the_file(tmp_path):
    _folder(tmp_path)
    (tmp_path / "val" / "dog" / "1.JPEG").write_bytes(b"not a jpeg")
    _, val = load_dataset(_cfg(tmp_path))
    with pytest.raises(InputError, match=r"val/dog/1.JPEG: cannot read image"):
        list(val.eval_batches(4))


def test_a_folders_digest_follows_its_files_and_labels(tmp_path):
    import os

    _folder(tmp_path / "a")
    _folder(tmp_path / "b")
    (a_train, a_val), (b_train, _) = load_dataset(_cfg(tmp_path / "a")), load_dataset(_cfg(tmp_path / "b"))
    assert a_train.content_digest() == load_dataset(_cfg(tmp_path / "a"))[0].content_digest()
    assert a_train.content_digest() != b_train.content_digest()  # other files (paths)
    assert a_train.content_digest() != a_val.content_digest()
    before = a_val.content_digest()
    image = tmp_path / "a" / "val" / "cat" / "0.JPEG"
    image.write_bytes(image.read_bytes() + b"\0")  # the same name, other content
    os.utime(image, ns=(1, 1))
    assert load_dataset(_cfg(tmp_path / "a"))[1].content_digest() != before


def test_a_synthetic_imagenet_folder_loads_with_its_thousand_classes(tmp_path):
    from paddle_supernet.data.synthetic import write_image_folder

    write_image_folder(tmp_path, classes=1000, per_class=1, val_per_class=1, size=(12, 10))
    train, val = load_dataset(_cfg(tmp_path))
    assert train.num_classes == val.num_classes == 1000 and len(train) == len(val) == 1000
    images, labels = next(iter(val.eval_batches(4)))
    assert list(images.shape) == [4, 3, 8, 8] and labels.numpy().tolist() == [0, 1, 2, 3]
