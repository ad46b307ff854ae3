"""A small residual CNN: Conv-BatchNorm-ReLU stem, one residual block, two concatenated branches,
dropout, global average pooling and a linear head; AdamW with two parameter groups (no weight
decay on biases and BatchNorm), cosine learning-rate decay, label-smoothed cross-entropy.

Only the import block below decides the framework: ``python examples/residual_cnn.py`` runs on
tinygrad_cnn, ``python examples/residual_cnn.py --torch`` (or ``EXAMPLES_BACKEND=torch``) on PyTorch.
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
    from torch.optim.lr_scheduler import CosineAnnealingLR
    from torch.utils.data import DataLoader, TensorDataset
else:
    import tinygrad_cnn as torch
    import tinygrad_cnn.nn as nn
    import tinygrad_cnn.functional as F
    from tinygrad_cnn.optim import AdamW
    from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR
    from tinygrad_cnn.data import DataLoader, TensorDataset

from tinygrad_cnn.data import load_digits  # the data only: 1,797 digits, no download


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and an identity shortcut added before the last ReLU."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        identity = x
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)) + identity)
        return out


class ResidualNet(nn.Module):
    def __init__(self, num_classes=10, width=16):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.block = BasicBlock(width)
        # two ways down to half the resolution, side by side: a strided 3x3 conv, and
        # max pooling followed by a 1x1 projection
        self.branch_a = nn.Conv2d(width, width, kernel_size=3, stride=2, padding=1)
        self.branch_b = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(width, width, kernel_size=1))
        # one more halving, so that each position sees most of the digit before the global average
        self.down = nn.Sequential(nn.Conv2d(2 * width, 4 * width, kernel_size=3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(4 * width), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.block(x)
        x = F.relu(torch.cat([self.branch_a(x), self.branch_b(x)], dim=1))
        x = self.down(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


def param_groups(model, weight_decay):
    """Weight decay on conv and linear weights only; none on biases and BatchNorm's γ, β."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def run_epoch(model, loader, criterion, optimizer):
    model.train()
    total, seen = 0.0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
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
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A small residual CNN on the bundled digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch", action="store_true", help="run on PyTorch instead of tinygrad_cnn")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_digits(size=28)
    train_loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
                              batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test)), batch_size=256)

    model = ResidualNet()
    optimizer = AdamW(param_groups(model, args.weight_decay), lr=args.lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        loss = run_epoch(model, train_loader, criterion, optimizer)
        scheduler.step()
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch}: train loss {loss:.4f}, lr {scheduler.get_last_lr()[0]:.2e}, "
              f"test accuracy {accuracy:.4f}")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
