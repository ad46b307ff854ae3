"""A MobileNetV3-style CNN with a reconstruction head: a reflect-padded stem, depthwise separable
blocks with squeeze-and-excitation (Hardswish, SiLU, Hardsigmoid), a classifier, and a decoder
of transposed convolutions that redraws the digit; trained on cross-entropy plus a smooth L1
reconstruction loss, AdamW, a linear warm-up followed by cosine decay (SequentialLR).

Only the import block below decides the framework: ``python examples/mobile_cnn.py`` runs on
tinygrad_cnn, ``python examples/mobile_cnn.py --torch`` (or ``EXAMPLES_BACKEND=torch``) on PyTorch.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # a checkout's package

if "--torch" in sys.argv or os.environ.get("EXAMPLES_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.optim import AdamW
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
    from torch.utils.data import DataLoader, TensorDataset
else:
    import tinygrad_cnn as torch
    import tinygrad_cnn.nn as nn
    import tinygrad_cnn.functional as F
    from tinygrad_cnn.optim import AdamW
    from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
    from tinygrad_cnn.data import DataLoader, TensorDataset

from tinygrad_cnn.data import load_digits  # the data only: 1,797 digits, no download


class SqueezeExcite(nn.Module):
    """Channel gates from the global average: 1x1 conv down, SiLU, 1x1 conv up, Hardsigmoid."""

    def __init__(self, channels, reduced):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.down = nn.Conv2d(channels, reduced, kernel_size=1)
        self.up = nn.Conv2d(reduced, channels, kernel_size=1)
        self.act = nn.SiLU()
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.up(self.act(self.down(self.pool(x)))))


class SeparableBlock(nn.Module):
    """Depthwise 3x3 (one kernel per channel), squeeze-and-excitation, pointwise 1x1."""

    def __init__(self, channels_in, channels_out, stride):
        super().__init__()
        self.depthwise = nn.Conv2d(channels_in, channels_in, kernel_size=3, stride=stride, padding=1,
                                   groups=channels_in, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_in)
        self.se = SqueezeExcite(channels_in, max(channels_in // 4, 4))
        self.pointwise = nn.Conv2d(channels_in, channels_out, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.act = nn.Hardswish()

    def forward(self, x):
        x = self.act(self.bn1(self.depthwise(x)))
        x = self.se(x)
        return self.act(self.bn2(self.pointwise(x)))


class MobileNet(nn.Module):
    def __init__(self, num_classes=10, width=16):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, kernel_size=3, stride=2, padding=1, padding_mode="reflect", bias=False),
            nn.BatchNorm2d(width), nn.Hardswish())                                  # 28 -> 14
        self.blocks = nn.Sequential(SeparableBlock(width, 2 * width, stride=2),     # 14 -> 7
                                    SeparableBlock(2 * width, 2 * width, stride=1))
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                        nn.Linear(2 * width, num_classes))
        self.decoder = nn.Sequential(                                              # 7 -> 14 -> 28
            nn.ConvTranspose2d(2 * width, width, kernel_size=3, stride=2, padding=1, output_padding=1),
            nn.SiLU(),
            nn.ConvTranspose2d(width, 1, kernel_size=4, stride=2, padding=1))

    def forward(self, x):
        features = self.blocks(self.stem(x))
        return self.classifier(features), self.decoder(features)


def joint_loss(outputs, images, labels, weight=0.5):
    logits, reconstruction = outputs
    return F.cross_entropy(logits, labels) + weight * F.smooth_l1_loss(reconstruction, images)


def make_scheduler(optimizer, epochs, warmup=1):
    return SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.2, total_iters=warmup),
                                    CosineAnnealingLR(optimizer, T_max=max(epochs - warmup, 1))],
                        milestones=[warmup])


def run_epoch(model, loader, optimizer):
    model.train()
    total, seen = 0.0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = joint_loss(model(images), images, labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * images.size(0)
        seen += images.size(0)
    return total / seen


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            logits, _ = model(images)
            correct += (logits.argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A MobileNetV3-style CNN with a decoder on the bundled digits")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch", action="store_true", help="run on PyTorch instead of tinygrad_cnn")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_digits(size=28)
    train_loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
                              batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test)), batch_size=256)

    model = MobileNet()
    optimizer = AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = make_scheduler(optimizer, args.epochs)
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        loss = run_epoch(model, train_loader, optimizer)
        scheduler.step()
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch}: train loss {loss:.4f}, lr {scheduler.get_last_lr()[0]:.2e}, "
              f"test accuracy {accuracy:.4f}")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
