#!/usr/bin/python3
"""Class activation map reference (Tests/StrataCoreTests/Fixtures/cam/small.json).

A small network, conv 3x3 (1->4) -> relu -> conv 3x3 stride 2 (4->6) -> relu ->
global average pool -> flatten -> linear (6->3), with seeded random weights, on two 8x8
grey images. For each image the script records the logits, the features of the last
convolution block (the input of the pool) and the map of a class computed by hand:

    m = relu(sum_k W[c, k] * F[k])   (F: [6, 4, 4], W: the linear weight [3, 6])
    m = m - m.min(); m = m / m.max() (when m.max() > 0)
    map = F.interpolate(m, size=(8, 8), mode="bilinear", align_corners=False)

for the predicted class and for class 2. Run: /usr/bin/python3 scripts/make_cam_fixture.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20180612)
torch.set_num_threads(1)

net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1),
    torch.nn.ReLU(),
    torch.nn.Conv2d(4, 6, 3, stride=2, padding=1),
    torch.nn.ReLU(inplace=True),
    torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(),
    torch.nn.Linear(6, 3),
)
x = torch.rand(2, 1, 8, 8)

features = {}
net[3].register_forward_hook(lambda m, i, o: features.__setitem__("f", o.detach().clone()))
with torch.no_grad():
    logits = net(x)


def cam(f, c):
    w = net[6].weight[c]                       # [6]
    m = torch.relu((w[:, None, None] * f).sum(0))  # [4, 4]
    m = m - m.min()
    if m.max() > 0:
        m = m / m.max()
    return F.interpolate(m[None, None], size=(8, 8), mode="bilinear", align_corners=False)[0, 0]


def t(v):
    return {"shape": list(v.shape), "data": [float(a) for a in v.flatten().tolist()]}


cases = []
for i in range(2):
    predicted = int(logits[i].argmax())
    cases.append({
        "logits": t(logits[i]),
        "features": t(features["f"][i]),
        "predicted": predicted,
        "map_predicted": t(cam(features["f"][i], predicted)),
        "map_class2": t(cam(features["f"][i], 2)),
    })

names = {"0.weight": "conv1.weight", "0.bias": "conv1.bias", "2.weight": "conv2.weight",
         "2.bias": "conv2.bias", "6.weight": "fc.weight", "6.bias": "fc.bias"}
out = {
    "network": "conv1 3x3 1->4 pad 1, relu, conv2 3x3 4->6 stride 2 pad 1, relu, global avg pool, flatten, fc 6->3",
    "parameters": {names[k]: t(v.detach()) for k, v in net.state_dict().items()},
    "x": t(x),
    "images": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataCoreTests", "Fixtures", "cam", "small.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path), file=sys.stderr)
