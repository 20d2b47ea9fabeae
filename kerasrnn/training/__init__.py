"""Training: the fit loop, optimizers and schedules, distribution, progress, reports.

`fit(recipe, run_dir)` trains a resolved recipe into a run folder (see
`kerasrnn.runs`) and returns its held-out metrics.
"""

from kerasrnn.training.distribute import make_strategy
from kerasrnn.training.loop import TrainingError, fit
from kerasrnn.training.optim import SmoothedSparseCrossentropy, learning_rate, make_loss, make_optimizer
from kerasrnn.training.progress import EpochMonitor
from kerasrnn.training.reports import inspect_data, plot_run
from kerasrnn.training.tensorboard import TensorBoardLog
