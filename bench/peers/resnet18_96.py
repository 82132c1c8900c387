#!/usr/bin/python3
"""d2l's ResNet-18 (convolutions with biases, one input channel, 10 classes) on Fashion-MNIST
resized to 96x96, batch 64, SGD 0.05: bench/recipes/resnet18-bench.json in PyTorch, measured as
`strata bench` measures (common.py; the resize and the test slice as zoo.py describes).

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/resnet18_96.py --threads 2
"""
import zoo

if __name__ == "__main__":
    zoo.run("resnet18_96", zoo.d2l_resnet18, 0.05, "d2l ResNet-18 at 96x96, measured as `strata bench` measures")
