"""chainrule.train: fit / evaluate / predict with metrics, Keras-style callbacks,
resumable checkpoints, model selection (K-fold, grid / random search), plots and a
diagnosis of the learning curves that says why training went wrong."""
from .callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback,
                        LearningRateScheduler, ModelCheckpoint, TerminateOnNaN)
from .diagnosis import Diagnosis, diagnose
from .repair import RepairResult, repair
from .tensorboard import TensorBoard
from .fit import evaluate, fit, predict
from .history import History
from .live_plot import LivePlot
from .metrics import (accuracy, confusion_matrix, log_rmse, mae, mse, register_metric, rmse,
                      top_k_accuracy)
from .monitor import GradientMonitor
from .shift import CovariateShift, covariate_shift, label_shift_weights
from .selection import (KFoldResult, SearchResult, grid_search, k_fold, k_fold_indices,
                        random_search, train_val_test_split)
from .plots import (plot_activations, plot_confusion_matrix, plot_gradient_flow,
                    plot_history, plot_k_fold, plot_predictions)

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "LambdaCallback",
           "EarlyStopping", "ModelCheckpoint", "CSVLogger", "LearningRateScheduler",
           "TerminateOnNaN", "LivePlot", "GradientMonitor", "k_fold", "k_fold_indices",
           "train_val_test_split", "grid_search", "random_search", "KFoldResult",
           "SearchResult", "diagnose", "Diagnosis", "accuracy", "top_k_accuracy", "mse",
           "mae", "rmse", "log_rmse", "confusion_matrix", "register_metric",
           "plot_history", "plot_k_fold", "plot_gradient_flow", "plot_confusion_matrix",
           "plot_predictions", "plot_activations", "covariate_shift", "CovariateShift",
           "label_shift_weights", "TensorBoard", "repair", "RepairResult"]
