#!/usr/bin/python3
"""MobileNet V1 as the CNN survey writes it (alpha 1, one input channel, 10 classes) on
Fashion-MNIST resized to 96x96, batch 64, SGD 0.1: bench/recipes/mobilenet-v1-bench.json in
PyTorch, measured as `strata bench` measures (common.py; the resize and the test slice as zoo.py
describes).

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/mobilenet_v1.py --threads 2
"""
import zoo

if __name__ == "__main__":
    zoo.run("mobilenet_v1", zoo.MobileNetV1, 0.1, "MobileNet V1 at 96x96, measured as `strata bench` measures")
