"""The photographs the denoising benchmarks train and evaluate on: only photos that ship in wheels.

Training (the only photos a denoiser here is trained or tuned on): scikit-image's camera, coins, moon, page, text,
brick, grass, gravel, motorcycle_left (``stereo_motorcycle()[0]``), rocket and hubble_deep_field; scikit-learn's
``load_sample_images()`` (china, flower); matplotlib's ``sample_data/grace_hopper.jpg``. A grey model trains on all
fourteen in grey, a colour model on the six in colour. Evaluation: scikit-image's astronaut, chelsea, coffee and
clock (grey; the first three in colour too), never trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SKIMAGE_TRAIN = ["camera", "coins", "moon", "page", "text", "brick", "grass", "gravel", "motorcycle_left", "rocket",
                 "hubble_deep_field"]  # fmt: skip
SKLEARN_TRAIN = ["china", "flower"]
MATPLOTLIB_TRAIN = ["grace_hopper"]
TRAIN = SKIMAGE_TRAIN + SKLEARN_TRAIN + MATPLOTLIB_TRAIN
COLOUR_TRAIN = ["motorcycle_left", "rocket", "hubble_deep_field", "china", "flower", "grace_hopper"]
EVAL = ["astronaut", "chelsea", "coffee", "clock"]
COLOUR_EVAL = ["astronaut", "chelsea", "coffee"]


def photo(name: str) -> np.ndarray:
    """A shipped photo as float64 in [0, 1]: (H, W) grey or (H, W, 3) colour."""
    if name in SKLEARN_TRAIN:
        from sklearn.datasets import load_sample_image

        image = load_sample_image(f"{name}.jpg")
    elif name in MATPLOTLIB_TRAIN:
        import matplotlib.cbook
        from PIL import Image

        with Image.open(matplotlib.cbook.get_sample_data(f"{name}.jpg", asfileobj=False)) as f:
            image = np.asarray(f.convert("RGB"))
    else:
        import skimage.data

        image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(skimage.data, name)()
    return image.astype(np.float64) / 255


def grey(image: np.ndarray) -> np.ndarray:
    """Luminance (ITU-R BT.709, scikit-image's rgb2gray) of a colour image; a grey one as it is."""
    from skimage.color import rgb2gray

    return rgb2gray(image) if image.ndim == 3 else image


def write_folder(folder: Path, names: list[str], colour: bool) -> Path:
    """``names`` saved as 8-bit PNGs in ``folder`` (grey, or colour where the photo has colour)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        image = photo(name) if colour else grey(photo(name))
        Image.fromarray(np.rint(image * 255).astype(np.uint8)).save(folder / f"{name}.png")
    return folder
