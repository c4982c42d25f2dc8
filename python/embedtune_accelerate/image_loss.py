"""
The image classifier's loss, as the tfjs engine's ClassificationHead.loss computes it: softmax cross-entropy, or
the focal loss of Lin et al., −α_y (1 − p_y)^γ log p_y, with α one number or one per class (sorted label order);
with loss.class_weights balanced, the weighted mean Σ w_y·loss / Σ w_y, as torch's CrossEntropyLoss(weight=w).
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def balanced_class_weights(labels: list[str], observed: list[str]) -> list[float]:
    """scikit-learn's compute_class_weight('balanced'): n / (k · n_c); a class never observed gets 0."""
    counts = Counter(observed)
    return [0.0 if counts[label] == 0 else len(observed) / (len(labels) * counts[label]) for label in labels]


class ImageClassificationLoss:
    def __init__(self, loss: dict[str, Any], labels: list[str], train_labels: list[str]) -> None:
        kind = loss["type"]
        if kind not in ("softmax", "focal"):
            raise ValueError(f"loss.type {kind} does not train an image classifier; use softmax or focal.")
        self.focal = kind == "focal"
        # gamma and alpha come from the resolved config (the schema's defaults), and only focal loss reads them.
        self.gamma = float(loss["gamma"]) if self.focal else 0.0
        alpha = loss["alpha"] if self.focal else 1.0
        self.alpha = [float(a) for a in alpha] if isinstance(alpha, list) else [float(alpha)] * len(labels)
        if self.focal and len(self.alpha) != len(labels):
            raise ValueError(f"loss.alpha lists {len(self.alpha)} weights, but the data has {len(labels)} classes ({', '.join(labels)}).")
        self.class_weights = balanced_class_weights(labels, train_labels) if loss.get("class_weights") == "balanced" else None

    def __call__(self, logits: Any, targets: Any) -> Any:
        import torch

        log_p = torch.log_softmax(logits.float(), dim=-1).gather(1, targets.view(-1, 1)).squeeze(1)
        per_row = -log_p
        if self.focal:
            alpha = torch.tensor(self.alpha, device=logits.device)[targets]
            per_row = alpha * (1 - log_p.exp()).pow(self.gamma) * per_row
        if self.class_weights is None:
            return per_row.mean()
        weights = torch.tensor(self.class_weights, device=logits.device)[targets]
        return (weights * per_row).sum() / weights.sum()
