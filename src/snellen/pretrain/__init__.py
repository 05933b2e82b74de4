"""Learning vision from rendered images: MoCo-v2 pre-training of a ResNet on dataset
directories that ``snellen dataset build`` wrote.

>>> from snellen.pretrain import pretrain
>>> pretrain("dl,fractals", "moco.pt", arch="resnet18", epochs=1)  # doctest: +SKIP
"""

from snellen.pretrain.train import PretrainConfig, PretrainResult, load_backbone, pretrain

run_pretrain = pretrain  # the name in ``snellen``'s API (``snellen.pretrain`` is this package)

__all__ = ["PretrainConfig", "PretrainResult", "load_backbone", "pretrain", "run_pretrain"]
