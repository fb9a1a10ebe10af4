"""An 8-bit (Q8_0) GGUF of the same weights as a Q4_1 GGUF, for P10's 8-bit vs 8-bit figure.

Made with the `gguf` package's own tooling: every Q4_1 tensor is dequantized (gguf.quants.dequantize,
exactly the float32 weights the stage artifact was exported from) and quantized to Q8_0
(gguf.quants.quantize, llama.cpp's reference Q8_0: blocks of 32, one scale each); other tensors and all
metadata are copied. Writes OUT only when it does not exist yet; prints OUT.

usage: gguf_q8.py SRC.gguf OUT.gguf
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import gguf
import numpy as np
from gguf import GGMLQuantizationType as Q


def convert(src: Path, out: Path) -> None:
    reader = gguf.GGUFReader(src)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    tmp = out.with_suffix(".part")
    writer = gguf.GGUFWriter(tmp, arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        value = field.contents()
        if field.name == gguf.Keys.General.FILE_TYPE:
            value = int(gguf.LlamaFileType.MOSTLY_Q8_0)
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
    tensors = []
    for t in reader.tensors:
        if t.tensor_type == Q.Q4_1:
            weights = gguf.quants.dequantize(t.data, Q.Q4_1)
            data, qtype = gguf.quants.quantize(weights.astype(np.float32), Q.Q8_0), Q.Q8_0
        else:
            data, qtype = np.asarray(t.data), t.tensor_type
        tensors.append((t.name, data, qtype))
        writer.add_tensor_info(t.name, data.shape, data.dtype, data.nbytes, qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in tensors:
        writer.write_tensor_data(data)
    writer.close()
    os.replace(tmp, out)


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        convert(src, out)
    print(out)


if __name__ == "__main__":
    main()
