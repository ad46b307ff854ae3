"""LeNet as Dive into Deep Learning builds it (sigmoid, average pooling, Xavier init, SGD 0.9),
trained with a loop shaped like d2l's ``train_ch6``, on the bundled digits at 28x28.

Only the import block below decides the framework: ``python examples/d2l_lenet.py`` runs on
tinygrad_cnn, ``python examples/d2l_lenet.py --torch`` (or ``EXAMPLES_BACKEND=torch``) on PyTorch.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # a checkout's package

if "--torch" in sys.argv or os.environ.get("EXAMPLES_BACKEND") == "torch":
    import torch
    from torch import nn
    from torch.utils import data
else:
    import tinygrad_cnn as torch
    from tinygrad_cnn import nn
    from tinygrad_cnn import data

from tinygrad_cnn.data import load_digits  # the data only: 1,797 digits, no download

# Sigmoid LeNet starts slowly: its first ~20 epochs sit at chance.  With d2l's batch of 256
# there are only 6 steps per epoch on these 1,437 training digits; in PyTorch (seeds 0-3) the
# test accuracy first passes 0.90 at epochs 42-45 and stays above it from epoch 80 on.
NUM_EPOCHS = 80


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)


class Accumulator:
    """Running sums over n quantities."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    """The number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter, device=None):
    """Accuracy of ``net`` over a whole data set."""
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def try_gpu(i=0):
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """Train ``net`` with SGD and cross-entropy; one line per epoch, returns the test accuracy."""
    net.apply(init_weights)
    print("training on", device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    start, num_batches = time.perf_counter(), len(train_iter)
    for epoch in range(num_epochs):
        metric = Accumulator(3)  # sum of training loss, correct predictions, examples
        net.train()
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                metric.add(l * X.shape[0], accuracy(y_hat, y), X.shape[0])
        train_l = metric[0] / metric[2]
        train_acc = metric[1] / metric[2]
        test_acc = evaluate_accuracy(net, test_iter)
        print(f"epoch {epoch + 1}: loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
    elapsed = time.perf_counter() - start
    print(f"{metric[2] * num_epochs / elapsed:.1f} examples/sec on {str(device)}")
    return test_acc


def load_data_digits(batch_size):
    """The bundled digits at 28x28 as two DataLoaders (training shuffled)."""
    x_train, y_train, x_test, y_test = load_digits(size=28)
    train = data.TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    test = data.TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
    return (data.DataLoader(train, batch_size, shuffle=True, num_workers=0),
            data.DataLoader(test, batch_size, shuffle=False, num_workers=0))


def main(argv=None):
    parser = argparse.ArgumentParser(description="d2l's LeNet on the bundled digits")
    parser.add_argument("--epochs", type=int, default=NUM_EPOCHS)
    parser.add_argument("--lr", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch", action="store_true", help="run on PyTorch instead of tinygrad_cnn")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    train_iter, test_iter = load_data_digits(args.batch_size)
    net = lenet()
    test_acc = train_ch6(net, train_iter, test_iter, args.epochs, args.lr, try_gpu())
    print(f"test accuracy: {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
