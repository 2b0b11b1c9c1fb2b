import gzip
import os

import numpy as np
import pytest
from PIL import Image

from paddle_supernet.data import load_dataset
from paddle_supernet.data.batches import Augment, TrainBatches, calibration_subset
from paddle_supernet.data.cifar100 import load_cifar100
from paddle_supernet.data.fashion_mnist import DEFAULT_ROOT, load_fashion_mnist
from paddle_supernet.data.image_folder import load_image_folder
from paddle_supernet.errors import InputError

from helpers import synthetic_data, write_tiny_cifar100


def test_cifar100_tarball_pickle_format(tmp_path):
    import pickle
    import tarfile

    path = write_tiny_cifar100(tmp_path, n_train=10, n_test=5)
    with tarfile.open(path) as tar:
        raw = pickle.load(tar.extractfile("cifar-100-python/train"), encoding="bytes")
    data = load_cifar100("train", str(tmp_path), image_size=32)
    assert data.images.shape == (10, 32, 32, 3) and data.num_classes == 100
    # pixel (row 3, col 5) of channel 2 of image 7 in the CHW row-major pickle layout
    assert data.images[7, 3, 5, 2] == raw[b"data"][7][2 * 1024 + 3 * 32 + 5]
    assert data.labels.tolist() == raw[b"fine_labels"]
    assert len(load_cifar100("test", str(path), 16)) == 5


def test_cifar100_missing_or_broken(tmp_path):
    with pytest.raises(InputError, match="CIFAR-100 tarball not found; download cifar-100-python.tar.gz"):
        load_cifar100("train", str(tmp_path))
    (tmp_path / "cifar-100-python.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(InputError, match="cifar-100-python.tar.gz: cannot read the CIFAR-100 tarball"):
        load_cifar100("train", str(tmp_path))


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_adaptation(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28))
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, 2051)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(5), 2049)
    data = load_fashion_mnist("test", str(tmp_path), image_size=32)
    assert data.images.shape == (5, 32, 32, 1) and data.labels.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(data.images[:, 2:30, 2:30, 0], images)  # padded by 2, not interpolated
    assert not data.images[:, :2].any() and not data.images[:, :, 30:].any()
    assert data.to_input(data.images[:2]).shape == (2, 3, 32, 32)
    small = load_fashion_mnist("test", str(tmp_path), image_size=16)
    assert small.images.shape == (5, 16, 16, 1)


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path):
    with pytest.raises(InputError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train", str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(DEFAULT_ROOT), reason=f"{DEFAULT_ROOT} absent (bash tools/install.sh --data)")
def test_embedded_fashion_mnist_loads():
    train, val = load_dataset({"name": "fashion_mnist", "image_size": 32, "train_subset": 300, "val_subset": None})
    assert len(train) == 300 and len(val) == 10000 and train.num_classes == 10
    assert val.mean == train.mean and 0.1 < train.mean[0] < 0.5


def test_image_folder(tmp_path):
    for split, n in (("train", 3), ("val", 2)):
        for cls in ("cat", "ant"):
            folder = tmp_path / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (10, 12), (i * 40, 0, 200 if cls == "cat" else 0)).save(folder / f"{i}.png")
    train, val = load_dataset({"name": "image_folder", "root": str(tmp_path), "image_size": 8})
    assert train.images.shape == (6, 8, 8, 3) and train.labels.tolist() == [0, 0, 0, 1, 1, 1]  # ant, cat
    assert train.images[3, 0, 0, 2] == 200 and len(val) == 4
    with pytest.raises(InputError, match="folder not found"):
        load_image_folder("test", str(tmp_path))


def test_batches_are_a_function_of_seed_epoch_step():
    train, _ = synthetic_data(n_train=40)
    aug = Augment(crop_padding=2, flip=True, brightness=0.1, contrast=0.1, rotation=10)
    a = TrainBatches(train, 8, aug, seed=3)
    b = TrainBatches(train, 8, aug, seed=3)
    xa, ya = a.batch(1, 2)
    b.batch(0, 0)
    xb, yb = b.batch(1, 2)
    np.testing.assert_array_equal(xa.numpy(), xb.numpy())
    np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    assert a.steps_per_epoch == 5
    seen = np.concatenate([a.indices(4, s) for s in range(5)])
    assert sorted(seen.tolist()) == list(range(40))  # each epoch is a permutation
    assert not np.array_equal(a.indices(4, 0), a.indices(5, 0))


def test_flip_and_crop_are_exact():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(64, 6, 6, 1)).astype(np.uint8)
    out = Augment(flip=True)(images, np.random.default_rng(1))
    flipped = [np.allclose(o, images[i][:, ::-1] / 255.0) for i, o in enumerate(out)]
    same = [np.allclose(o, images[i] / 255.0) for i, o in enumerate(out)]
    assert all(f or s for f, s in zip(flipped, same)) and 15 < sum(flipped) < 49
    cropped = Augment(crop_padding=1)(images, np.random.default_rng(2))
    assert cropped.shape == (64, 6, 6, 1)


def test_calibration_subset_is_fixed():
    train, _ = synthetic_data(n_train=50)
    a, b = calibration_subset(train, 20, seed=1), calibration_subset(train, 20, seed=1)
    np.testing.assert_array_equal(a.images, b.images)
    assert len(a) == 20 and len(calibration_subset(train, 500, seed=1)) == 50


def _image():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(1, 6, 6, 3)).astype(np.uint8)


def test_brightness_and_contrast_follow_the_pil_arithmetic():
    img = _image()
    out = Augment(brightness=0.1, probability=1.0)(img, np.random.default_rng(3))
    r = np.random.default_rng(3)
    r.random(1)
    factor = r.uniform(0.9, 1.1, 1)[0]
    # independent: PIL's Brightness blends with black: round(clip(v * f)) in uint8
    expected = np.clip(np.floor(img[0].astype(np.float64) * factor + 0.5), 0, 255) / 255.0
    np.testing.assert_allclose(out[0], expected, atol=1 / 255 + 1e-7)
    out = Augment(contrast=0.1, probability=1.0)(img, np.random.default_rng(4))
    r = np.random.default_rng(4)
    r.random(1)
    factor = r.uniform(0.9, 1.1, 1)[0]
    grey = img[0].astype(np.float64) @ np.array([299, 587, 114]) / 1000  # ITU-R 601-2 luma, as PIL's "L"
    mean = int(np.floor(grey).mean() + 0.5)
    expected = np.clip(np.floor(mean + factor * (img[0].astype(np.float64) - mean) + 0.5), 0, 255) / 255.0
    np.testing.assert_allclose(out[0], expected, atol=1 / 255 + 1e-7)


def test_rotation_is_nearest_neighbour_with_zero_fill_and_runs_last():
    img = np.zeros((1, 5, 5, 1), np.uint8)
    img[0, 0, 2, 0] = 200  # top centre
    aug = Augment(rotation=90.0, flip=True)
    r = np.random.default_rng(5)
    r.random(1)  # the flip's draw: a flip leaves the top-centre pixel where it is
    angle = r.uniform(-90, 90, 1)[0]
    out = np.round(aug(img, np.random.default_rng(5))[0, :, :, 0] * 255)
    # independent: flip first (top centre stays put), then rotate about the centre by `angle`
    # degrees counter-clockwise, nearest neighbour: the bright pixel lands near (2 - 2 cos, 2 - 2 sin)
    theta = np.deg2rad(angle)
    row, col = 2 - 2 * np.cos(theta), 2 - 2 * np.sin(theta)
    bright = np.argwhere(out > 0)
    assert len(bright) >= 1 and np.all(out[out > 0] == 200)
    assert np.abs(bright.mean(axis=0) - [row, col]).max() <= 1.0
    assert out.sum() <= 200 * 2  # nothing but the moved pixel, and zero fill


def test_calibration_on_augmented_images_is_an_option():
    train, _ = synthetic_data(n_train=40)
    aug = {"crop_padding": 2, "flip": True, "brightness": 0.1, "contrast": 0.1, "rotation": 10.0, "probability": 0.5}
    clean = np.concatenate([b.numpy() for b in train.calibration_batches(20, 8, seed=1)])
    a = np.concatenate([b.numpy() for b in train.calibration_batches(20, 8, seed=1, augment=aug)])
    b = np.concatenate([b.numpy() for b in train.calibration_batches(20, 8, seed=1, augment=aug)])
    np.testing.assert_array_equal(a, b)  # fixed
    assert a.shape == clean.shape and not np.array_equal(a, clean)
    np.testing.assert_array_equal(clean, train.to_input(calibration_subset(train, 20, seed=1).images))


def test_image_folder_val_labels_follow_training_classes(tmp_path):
    for split, classes in (("train", ("ant", "bee", "cat")), ("val", ("ant", "cat"))):
        for cls in classes:
            (tmp_path / split / cls).mkdir(parents=True)
            Image.new("RGB", (4, 4), (10, 20, 30)).save(tmp_path / split / cls / "0.png")
    train, val = load_dataset({"name": "image_folder", "root": str(tmp_path), "image_size": 4})
    assert val.labels.tolist() == [0, 2] and val.num_classes == train.num_classes == 3  # 'cat' stays 2
    (tmp_path / "val" / "dog").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "val" / "dog" / "0.png")
    with pytest.raises(InputError, match="class 'dog' is not among the 3 training classes"):
        load_dataset({"name": "image_folder", "root": str(tmp_path), "image_size": 4})
    (tmp_path / "train" / "emu").mkdir()
    with pytest.raises(InputError, match="train/emu: empty class folder"):
        load_dataset({"name": "image_folder", "root": str(tmp_path), "image_size": 4})
