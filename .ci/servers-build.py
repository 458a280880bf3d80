"""Run inside a server image's root (chroot) while .ci/servers.sh builds it: what a stack needs besides its
packages. `python3 servers-build.py STACK`. mlserver: a small scikit-learn model trained here, so it is
pickled by the image's own scikit-learn (no version-skew warning in the healthy control); torchserve: the
model's weights, saved by the image's own torch."""

import sys


def mlserver() -> None:
    """A 3-feature logistic regression, saved where the scenarios' model-settings.json point."""
    import os

    import joblib
    from sklearn.linear_model import LogisticRegression

    X = [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.2, 0.1, 0.9], [0.9, 0.8, 0.1]]
    y = [0, 1, 0, 1]
    os.makedirs("/opt/models/sklearn-iris", exist_ok=True)
    joblib.dump(LogisticRegression().fit(X, y), "/opt/models/sklearn-iris/model.joblib")


def torchserve() -> None:
    """The linear model's weights (w, b), saved by the image's own torch where serve.sh archives them."""
    import os

    import torch

    os.makedirs("/opt/models", exist_ok=True)
    torch.save(torch.tensor([2.0, 0.5]), "/opt/models/weights.pt")


STEPS = {"mlserver": mlserver, "torchserve": torchserve}

if __name__ == "__main__":
    step = STEPS.get(sys.argv[1])
    if step is not None:
        step()
