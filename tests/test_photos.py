"""Training photos: the packaged ones with credits, or a folder of your own."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from nst_helpers.errors import NSTError
from nst_helpers.photos import HELD_OUT, PACKAGED_PHOTOS, folder_photos, training_photos


def test_packaged_photos_load_with_a_credit_each_and_leave_tubingen_out():
    photos, credits = training_photos(max_dim=96)
    assert len(photos) == len(credits) == len(PACKAGED_PHOTOS)  # all packages are installed here
    for photo, credit in zip(photos, credits):
        assert photo.shape[0] == 1 and max(photo.shape[1:3]) <= 96 and photo.shape[3] == 3
        assert photo.dtype == tf.uint8 and int(tf.reduce_max(photo)) > 128  # pixels, not [0, 1]
        assert "; " in credit  # who made it; its rights
    assert all(HELD_OUT not in credit for credit in credits)
    assert any("CC BY 2.0" in credit for credit in credits)


def test_a_folder_gives_its_images_sorted_and_skips_other_files(tmp_path):
    for name, colour in (("b.png", (255, 0, 0)), ("a.jpg", (0, 0, 255))):
        Image.new("RGB", (40, 30), colour).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a photo")
    photos, credits = folder_photos(tmp_path, max_dim=20)
    assert credits == ["a.jpg", "b.png"]
    assert photos[0].shape == (1, 15, 20, 3)
    assert np.argmax(photos[0][0, 0, 0]) == 2 and np.argmax(photos[1][0, 0, 0]) == 0


@pytest.mark.parametrize("case", ["missing", "empty"])
def test_no_photos_is_a_clear_error(tmp_path, case):
    folder = tmp_path / "none" if case == "missing" else tmp_path
    with pytest.raises(NSTError, match="not a folder" if case == "missing" else "no image files"):
        training_photos(folder)
