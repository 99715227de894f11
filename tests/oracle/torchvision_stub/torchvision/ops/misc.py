"""torchvision.ops.misc.FrozenBatchNorm2d: open_clip imports it for ResNet towers only."""
import torch


class FrozenBatchNorm2d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        raise RuntimeError("torchvision stub: FrozenBatchNorm2d is not available in tests")
