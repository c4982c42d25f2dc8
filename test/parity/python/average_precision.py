"""scikit-learn's answer for the average-precision parity test: average_precision_score on the one-hot gold labels
(a multilabel-indicator y_true, so that a class with no example keeps its column) against the class scores.

Request: {"gold": [class index per example], "scores": [[score per class] per example]}
Answer:  {"per_class": [AP per class, sklearn's 0 for a class with no example], "macro": sklearn's average='macro',
          "present": [whether each class has an example], "sklearn": version}
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score


def main(request_path, answer_path):
    with open(request_path) as file:
        request = json.load(file)
    scores = np.asarray(request["scores"], dtype=np.float64)
    one_hot = np.zeros_like(scores, dtype=np.int64)
    one_hot[np.arange(len(request["gold"])), request["gold"]] = 1
    with warnings.catch_warnings():
        # "No positive class found in y_true": the test checks what sklearn does then.
        warnings.simplefilter("ignore")
        per_class = average_precision_score(one_hot, scores, average=None)
        macro = average_precision_score(one_hot, scores, average="macro")
    answer = {
        "per_class": [float(ap) for ap in per_class],
        "macro": float(macro),
        "present": [bool(column.any()) for column in one_hot.T],
        "sklearn": sklearn.__version__,
    }
    with open(answer_path, "w") as file:
        json.dump(answer, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
