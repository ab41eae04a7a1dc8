"""chainrule.utils.tensorboard: SummaryWriter, as torch.utils.tensorboard (event files
written through the optional extra `chainrule[tensorboard]`, i.e. tensorboardX)."""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
