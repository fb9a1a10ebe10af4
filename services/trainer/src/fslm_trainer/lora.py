"""The LoRA adapter: which modules it targets, and wrapping a base model with it (peft)."""

from __future__ import annotations

from peft import LoraConfig, get_peft_model
from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

from .config import LoraSettings
from .exitcodes import BadInput
from .lora_settings import check_settings


def target_modules(settings: LoraSettings, model) -> str | list[str]:
    targets = [t.strip() for t in settings.targets if t.strip()]
    if targets in ([], ["auto"]):
        known = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING.get(model.config.model_type)
        if not known:
            raise BadInput(f"no default LoRA targets for model type {model.config.model_type!r}; "
                           "name them (e.g. --lora-targets all-linear)")
        return list(known)
    if targets == ["all-linear"]:
        return "all-linear"
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in names]
    if missing:
        linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if type(m).__name__ == "Linear"})
        raise BadInput(f"LoRA target module(s) {missing} are not in this model; its linear modules are {linear}")
    return targets


def with_lora(model, settings: LoraSettings):
    check_settings(settings)
    config = LoraConfig(
        r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
        target_modules=target_modules(settings, model), task_type="CAUSAL_LM", bias="none",
    )
    return get_peft_model(model, config)


def describe(peft_model, settings: LoraSettings) -> dict:
    cfg = peft_model.peft_config["default"]
    targets = cfg.target_modules
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in peft_model.parameters())
    return {
        "type": "lora",
        "rank": settings.rank,
        "alpha": settings.alpha,
        "dropout": settings.dropout,
        "target_modules": sorted({t.rsplit(".", 1)[-1] for t in targets}) if not isinstance(targets, str) else targets,
        "target_spec": ",".join(settings.targets),
        "trainable_parameters": int(trainable),
        "total_parameters": int(total),
    }
