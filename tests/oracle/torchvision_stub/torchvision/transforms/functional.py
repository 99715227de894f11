"""torchvision.transforms.functional: imported by open_clip.transform, unused by the tests."""
