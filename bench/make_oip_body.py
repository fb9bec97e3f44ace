"""Write the Open Inference Protocol body of a /predict sample row.

    /usr/bin/python3 bench/make_oip_body.py SAMPLE_JSON MODEL_YAML OUT_JSON

One FP32 input named "input" of shape [1, features], the row's values in the
manifest's feature order (as FeatureMapper fills the model's input).
"""

import json
import re
import sys


def main():
    sample, manifest, out = sys.argv[1:4]
    row = json.load(open(sample))
    names = re.findall(r"name: (\w+)", open(manifest).read())
    body = {"inputs": [{"name": "input", "shape": [1, len(names)], "datatype": "FP32",
                        "data": [row[n] for n in names]}]}
    with open(out, "w") as f:
        json.dump(body, f)


if __name__ == "__main__":
    main()
