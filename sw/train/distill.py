"""Knowledge distillation (issue 21): a trained teacher (e.g. the depthwise baseline) guides a
FuSe student, as in the FuSeConv authors' follow-up ("neural operator scaffolding", arXiv
2108.11441), with Hinton et al.'s loss:

    loss = (1 - w) * CE(student, labels) + w * T^2 * KL(softmax(teacher / T) || softmax(student / T))

``T`` is the temperature (``--distill-temperature``), ``w`` the weight of the distillation
term (``--distill-weight``); the KL divergence is summed over classes and averaged over the
batch, and ``T^2`` keeps its gradients on the scale of the cross-entropy's as ``T`` grows. The
cross-entropy uses the recipe's label smoothing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def check_distill_options(temperature: float, weight: float) -> None:
    """``ValueError`` naming the value unless ``temperature > 0`` and ``0 <= weight <= 1``."""
    if not temperature > 0:
        raise ValueError(f"Distillation temperature must be positive, not {temperature!r}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"Distillation weight must be in [0, 1], not {weight!r}")


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = 4.0,
    weight: float = 0.5,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """The loss above, a scalar; the teacher's logits carry no gradient."""
    check_distill_options(temperature, weight)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"Teacher logits {tuple(teacher_logits.shape)} do not match the student's "
            f"{tuple(student_logits.shape)}"
        )
    ce = F.cross_entropy(student_logits, labels, label_smoothing=label_smoothing)
    log_p_student = F.log_softmax(student_logits / temperature, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
    return (1.0 - weight) * ce + weight * temperature**2 * kl
