"""The course's real photos (in ``images/``) and the credit line each one needs.

None of these photos comes from CIFAR-10. Show `credit(name)` wherever a photo,
or anything made from it (a filtered or resized copy), is displayed.
"""

from __future__ import annotations

from .config import IMAGES_DIR

__all__ = ["PHOTOS", "credit", "photo_path"]

#: file name -> (CIFAR-10 class or "general", credit line with source and licence)
PHOTOS = {
    "airplane_1.jpg": ("airplane", "Airplane photo from Pixabay (photographer not named), CC0 1.0, "
                       "via IBM/MAX-Image-Segmenter-Web-App"),
    "automobile_1.jpg": ("automobile", "Sports car photo from Pixabay (photographer not named), "
                         "CC0 1.0, via IBM/MAX-Image-Segmenter-Web-App"),
    "bird_1.jpg": ("bird", "Eagle photo from the darknet repository (pjreddie/darknet), "
                   "public domain per the repository licence"),
    "cat_1.jpg": ("cat", "Cat photo from Pexels (photographer not named), CC0 1.0, "
                  "via IBM/MAX-Inception-ResNet-v2"),
    "cat_2.png": ("cat", '"Chelsea the cat" by Stefan van der Walt, CC0, from scikit-image\'s '
                  "sample data"),
    "deer_1.jpg": ("deer", '"Strolling reindeer" by Alexandre Buisse (Nattfodd), CC BY-SA 3.0 '
                   "(https://creativecommons.org/licenses/by-sa/3.0/), via Wikimedia Commons; "
                   "filtered or resized copies are shared under the same licence"),
    "dog_1.jpg": ("dog", "Beagle photo from Pexels (photographer not named), CC0 1.0, "
                  "via IBM/MAX-Inception-ResNet-v2"),
    "frog_1.jpg": ("frog", "Red-eyed tree frog by Carey James Balboa, public domain, "
                   "via Wikimedia Commons"),
    "horse_1.jpg": ("horse", "Jockey and horse photo from Pexels (photographer not named), "
                    "CC0 1.0, via IBM/MAX-Object-Detector"),
    "ship_1.png": ("ship", "Kodak test image kodim06 (Eastman Kodak Company), released for "
                   "unrestricted usage"),
    "truck_1.jpg": ("truck", '"Mercedes-Benz Arocs dump truck" by High Contrast, CC BY 3.0 DE '
                    "(https://creativecommons.org/licenses/by/3.0/de/deed.en), via Wikimedia "
                    "Commons (resized, converted to JPEG)"),
    "general_1.png": ("general", "Cup of coffee by Rachel Michetti, courtesy of Pikolo Espresso "
                      "Bar, CC0, from scikit-image's sample data"),
}


def _check(name):
    if name not in PHOTOS:
        raise ValueError(f"Unknown photo {name!r}. Expected one of: {', '.join(sorted(PHOTOS))}.")


def photo_path(name):
    """Absolute path of the course photo `name` (e.g. ``"truck_1.jpg"``)."""
    _check(name)
    return IMAGES_DIR / name


def credit(name):
    """The credit line to show with photo `name`.

    Examples
    --------
    >>> credit("frog_1.jpg")
    'frog_1.jpg: Red-eyed tree frog by Carey James Balboa, public domain, via Wikimedia Commons'
    """
    _check(name)
    return f"{name}: {PHOTOS[name][1]}"
