"""What a fitted skae estimator computes, for tests that compare two fits."""

import numpy as np


def outputs(est, X):
    """Every output of a fitted estimator on X, by method name."""
    out = {"score_samples": est.score_samples(X)}
    if hasattr(est, "transform"):
        out["transform"] = est.transform(X)
        out["inverse_transform"] = est.inverse_transform(out["transform"])
    else:
        out.update(predict=est.predict(X), decision_function=est.decision_function(X),
                   feature_errors=est.feature_errors(X))
    return out


def assert_same_outputs(a, b):
    """Both dicts of :func:`outputs` hold identical arrays."""
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
