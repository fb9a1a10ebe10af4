"""SmolLM2's tokenizer as fetch-base saves it from the GGUF: digits split, chat template, BOS."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer, pre_tokenizers
from transformers import AutoTokenizer

from fslm_trainer.config import KNOWN_BASES
from fslm_trainer.gguf_source import fetch_gguf
from gguf_bpe import GgufBpe

MESSAGES = [
    {"role": "system", "content": "You count things.  Be exact."},
    {"role": "user", "content": "Add 12345 and   678, then   2024-07-15 ->    99 items (x3)! Café 🚀"},
]


@pytest.fixture(scope="module")
def smol_dir(models):
    return models["smollm2-135m"]


@pytest.fixture(scope="module")
def gguf_bpe(models):
    return GgufBpe(fetch_gguf(KNOWN_BASES["smollm2-135m"]))  # cached by scripts/models


def test_digits_are_split_into_one_token_each(smol_dir):
    tok = AutoTokenizer.from_pretrained(smol_dir)
    ids = tok("12345", add_special_tokens=False)["input_ids"]
    assert [tok.decode([i]) for i in ids] == ["1", "2", "3", "4", "5"]
    spaced = tok("x  99", add_special_tokens=False)["input_ids"]
    assert [tok.decode([i]) for i in spaced] == ["x", "  ", "9", "9"]


def test_a_chat_rendered_message_gets_the_ids_the_gguf_vocabulary_gives(smol_dir, gguf_bpe):
    tok = AutoTokenizer.from_pretrained(smol_dir)
    text = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids == gguf_bpe.encode(text)
    assert ids == tok.apply_chat_template(MESSAGES, tokenize=True, add_generation_prompt=True)["input_ids"]
    assert ids.count(tok.convert_tokens_to_ids("<|im_start|>")) == 3


def test_the_raw_tokenizer_json_alone_gives_the_same_ids(smol_dir, gguf_bpe):
    # What a peer that reads only tokenizer.json (the TypeScript engine) sees.
    raw = Tokenizer.from_file(str(smol_dir / "tokenizer.json"))
    text = "<|im_start|>user\nAdd 12345 and   678 =    99<|im_end|>\n"
    assert raw.encode(text, add_special_tokens=True).ids == gguf_bpe.encode(text)


def test_without_the_fix_digits_and_spaces_would_tokenize_differently(smol_dir, gguf_bpe):
    raw = Tokenizer.from_file(str(smol_dir / "tokenizer.json"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    text = "Add 12345 and   678 =    99"
    assert raw.encode(text).ids != gguf_bpe.encode(text)


def test_tokenizer_config_has_the_chat_template_and_an_explicit_add_bos_token(smol_dir):
    cfg = json.loads((smol_dir / "tokenizer_config.json").read_text())
    assert cfg["add_bos_token"] is False  # the GGUF says tokenizer.ggml.add_bos_token = false
    assert cfg["chat_template"] == (smol_dir / "chat_template.jinja").read_text()
    tok = AutoTokenizer.from_pretrained(smol_dir)
    assert tok("hello")["input_ids"][0] != tok.bos_token_id
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert text.startswith("<|im_start|>system\n")  # the template brings its own <|im_start|> (= bos id 1)
