"""scikit-learn estimators for chainrule modules, with skorch's conventions:
NeuralNetClassifier and NeuralNetRegressor. Needs the optional extra
`pip install 'chainrule[sklearn]'` (scikit-learn >= 1.6)."""
try:
    import sklearn as _sklearn
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError("chainrule.sklearn needs scikit-learn >= 1.6: "
                      "pip install 'chainrule[sklearn]'") from None

if tuple(int(p) for p in _sklearn.__version__.split(".")[:2] if p.isdigit()) < (1, 6):
    raise ImportError(f"chainrule.sklearn needs scikit-learn >= 1.6 (found "
                      f"{_sklearn.__version__}): pip install 'chainrule[sklearn]'")

from .estimators import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402
from .net import NeuralNet  # noqa: E402

__all__ = ["NeuralNet", "NeuralNetClassifier", "NeuralNetRegressor"]
