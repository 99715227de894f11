"""The torchvision.transforms names open_clip imports; none is called by the parity tests."""
from enum import Enum


class InterpolationMode(Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _unused(name):
    class Stand(object):
        def __init__(self, *args, **kwargs):
            raise RuntimeError(f"torchvision stub: transforms.{name} is not available in tests")

    Stand.__name__ = name
    return Stand


Normalize, Compose, RandomResizedCrop, ToTensor, Resize, CenterCrop, ColorJitter, Grayscale = (
    _unused(n) for n in
    ["Normalize", "Compose", "RandomResizedCrop", "ToTensor", "Resize", "CenterCrop",
     "ColorJitter", "Grayscale"])
