"""A layered (Sugiyama-style) layout of a computation graph, drawn with matplotlib.

Used by :func:`tinygrad_cnn.viz.draw`; no Graphviz binary needed.  The steps:

1. layers: longest path from the leaves, so every edge points down; then every
   node is pulled down to just above its first consumer, so a weight sits next
   to the op that uses it instead of at the top of the page;
2. an edge spanning several layers gets a dummy point in each layer between,
   so it can bend around the boxes;
3. order within each layer: repeated barycentre sweeps (a node moves to the
   mean position of its neighbours in the layer above or below), keeping the
   ordering with the fewest edge crossings;
4. x coordinates: each node as close as possible to the mean x of its
   neighbours (going down, of the ops feeding it, so the data path runs straight
   and weights sit beside it) while boxes keep their order and a minimum gap (a
   least-squares problem solved exactly by pool-adjacent-violators).

Coordinates are in inches, so the figure is sized to the graph and the text
keeps its point size however large the graph grows.
"""

from __future__ import annotations

FONT_PT = 7.0
CHAR_IN = 0.62 * FONT_PT / 72    # mean advance of a sans-serif character, inches
LINE_IN = 1.3 * FONT_PT / 72
BOX_PAD_IN = 0.07
H_GAP_IN = 0.16                  # between boxes of one layer
V_GAP_IN = 0.30                  # between layers
MARGIN_IN = 0.2
DUMMY_WIDTH_IN = 0.06
SWEEPS = 12

OP_COLOUR, PARAM_COLOUR, LEAF_COLOUR = "#dbe8f6", "#fde9c8", "#eeeeee"


def _import_matplotlib():
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "viz.draw needs matplotlib: pip install matplotlib "
            "(or install this package with its plot extra: pip install 'tinygrad-cnn[plot]'); "
            "viz.to_dot works without it"
        ) from exc
    return Figure, FancyArrowPatch, FancyBboxPatch


class _Box:
    __slots__ = ("key", "lines", "kind", "layer", "up", "down", "x", "width", "height", "pos")

    def __init__(self, key, lines, kind):
        self.key, self.lines, self.kind = key, lines, kind
        self.layer = 0
        self.up, self.down = [], []      # neighbour boxes in the layer above / below
        self.x = 0.0
        self.pos = 0.0
        if kind == "dummy":
            self.width, self.height = DUMMY_WIDTH_IN, 0.0
        else:
            self.width = max(len(s) for s in lines) * CHAR_IN + 2 * BOX_PAD_IN
            self.height = len(lines) * LINE_IN + 2 * BOX_PAD_IN * 0.6


# --------------------------------------------------------------- steps 1 and 2
def _boxes_and_edges(nodes):
    """Boxes for the drawn nodes (scalar constants folded into their op) and edges between them."""
    by_id = {n.id: n for n in nodes}
    folded = {n.id for n in nodes if not n.is_op and n.constant is not None}
    boxes, edges = {}, []
    root = nodes[-1].id
    for n in nodes:
        if n.id in folded and n.id != root:
            continue
        title = n.title
        if n.is_op:
            consts = [by_id[i].title for i in n.inputs if i in folded]
            if consts:
                title += " " + ", ".join(consts)
            kind = "root" if n.id == root else "op"
        else:
            kind = "param" if n.param is not None else "leaf"
        boxes[n.id] = _Box(n.id, [title, n.shape_text], kind)
        for i in n.inputs:
            if i not in folded:
                edges.append((i, n.id))
    return boxes, edges


def _assign_layers(boxes, edges, order):
    """Longest path from the leaves, then each node pulled down to just above its first consumer."""
    inputs = {k: [] for k in boxes}
    consumers = {k: [] for k in boxes}
    for src, dst in edges:
        inputs[dst].append(src)
        consumers[src].append(dst)
    for key in order:                     # topological: inputs first
        if key in boxes:
            boxes[key].layer = 1 + max((boxes[i].layer for i in inputs[key]), default=-1)
    for key in reversed(order):
        if key in boxes and consumers[key]:
            boxes[key].layer = min(boxes[c].layer for c in consumers[key]) - 1
    low = min(b.layer for b in boxes.values())
    for b in boxes.values():
        b.layer -= low


def _split_long_edges(boxes, edges):
    """Each edge becomes a chain through one dummy box per layer it crosses; returns the chains."""
    chains = []
    for n, (src, dst) in enumerate(edges):
        a, b = boxes[src], boxes[dst]
        chain = [a]
        for layer in range(a.layer + 1, b.layer):
            d = _Box(("dummy", n, layer), [], "dummy")
            d.layer = layer
            boxes[d.key] = d
            chain.append(d)
        chain.append(b)
        for upper, lower in zip(chain, chain[1:]):
            upper.down.append(lower)
            lower.up.append(upper)
        chains.append(chain)
    return chains


# --------------------------------------------------------------- step 3
def _crossings(layers) -> int:
    total = 0
    for upper in layers[:-1]:
        pairs = sorted((u.pos, d.pos) for u in upper for d in u.down)
        lower_positions = [p for _, p in pairs]
        for i, p in enumerate(lower_positions):         # inversions among the lower ends
            total += sum(1 for q in lower_positions[i + 1:] if q < p)
    return total


def _order_layers(layers):
    def renumber(layer):
        for i, b in enumerate(layer):
            b.pos = float(i)

    for layer in layers:
        renumber(layer)
    best = [list(layer) for layer in layers]
    best_cost = _crossings(layers)
    for sweep in range(SWEEPS):
        downwards = sweep % 2 == 0
        seq = range(1, len(layers)) if downwards else range(len(layers) - 2, -1, -1)
        for li in seq:
            layer = layers[li]
            for b in layer:
                nbrs = b.up if downwards else b.down
                b.x = sum(n.pos for n in nbrs) / len(nbrs) if nbrs else b.pos
            layer.sort(key=lambda b: (b.x, b.pos))
            renumber(layer)
        cost = _crossings(layers)
        if cost < best_cost:
            best_cost, best = cost, [list(layer) for layer in layers]
    for li, layer in enumerate(best):
        layers[li] = layer
        renumber(layer)


# --------------------------------------------------------------- step 4
def _place_in_order(layer, desired):
    """x closest (weighted least squares) to ``desired`` with x[i+1] − x[i] >= the half widths + gap.

    Subtracting the cumulative minimum gaps turns the constraint into "non-decreasing",
    which pool-adjacent-violators solves exactly.  Ops weigh more than leaves, so
    when boxes crowd it is the weights and inputs that step aside, not the data path.
    """
    offsets = [0.0]
    for a, b in zip(layer, layer[1:]):
        offsets.append(offsets[-1] + (a.width + b.width) / 2 + H_GAP_IN)
    blocks = []  # [weighted mean, total weight, count]
    for b, d, off in zip(layer, desired, offsets):
        blocks.append([d - off, 1.0 if b.kind in ("param", "leaf") else 8.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    y = [m for m, _, c in blocks for _ in range(c)]
    for b, yi, off in zip(layer, y, offsets):
        b.x = yi + off


def _assign_x(layers):
    for layer in layers:
        _place_in_order(layer, [0.0] * len(layer))
    for sweep in range(2 * SWEEPS):
        downwards = sweep % 2 == 0
        seq = range(1, len(layers)) if downwards else range(len(layers) - 2, -1, -1)
        for li in seq:
            layer = layers[li]
            desired = []
            for b in layer:
                nbrs = b.up if downwards else b.down
                if downwards:  # follow the data path, let weights and inputs sit beside it
                    nbrs = [n for n in nbrs if n.kind not in ("param", "leaf")] or nbrs
                if not nbrs:
                    nbrs = b.down if downwards else b.up
                desired.append(sum(n.x for n in nbrs) / len(nbrs) if nbrs else b.x)
            _place_in_order(layer, desired)


def layout(nodes):
    """Boxes with ``x``/``layer`` set, the edge chains, and the layers, for the nodes of ``viz.build_graph``."""
    boxes, edges = _boxes_and_edges(nodes)
    _assign_layers(boxes, edges, [n.id for n in nodes])
    chains = _split_long_edges(boxes, edges)
    layers = [[] for _ in range(1 + max(b.layer for b in boxes.values()))]
    index = {n.id: i for i, n in enumerate(nodes)}
    for b in boxes.values():
        layers[b.layer].append(b)
    for layer in layers:  # start from the order in which the graph was built; dummies after
        layer.sort(key=lambda b: len(index) + b.key[1] if b.kind == "dummy" else index[b.key])
    _order_layers(layers)
    _assign_x(layers)
    return boxes, chains, layers


# --------------------------------------------------------------- drawing
def render(nodes):
    """A matplotlib Figure of the laid-out graph, sized in inches to fit it."""
    Figure, FancyArrowPatch, FancyBboxPatch = _import_matplotlib()
    boxes, chains, layers = layout(nodes)

    row_height = [max((b.height for b in layer), default=0.0) for layer in layers]
    tops, y = [], MARGIN_IN
    for h in row_height:
        tops.append(y)
        y += h + V_GAP_IN
    height_in = y - V_GAP_IN + MARGIN_IN
    left = min(b.x - b.width / 2 for b in boxes.values())
    right = max(b.x + b.width / 2 for b in boxes.values())
    width_in = right - left + 2 * MARGIN_IN

    def centre(b):  # figure inches, y upwards
        return b.x - left + MARGIN_IN, height_in - (tops[b.layer] + row_height[b.layer] / 2)

    dpi = 150 if max(width_in, height_in) * 150 <= 16000 else 16000 / max(width_in, height_in)
    fig = Figure(figsize=(max(width_in, 1.0), max(height_in, 0.6)), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, max(width_in, 1.0))
    ax.set_ylim(0, max(height_in, 0.6))
    ax.set_axis_off()

    colours = {"op": OP_COLOUR, "root": OP_COLOUR, "param": PARAM_COLOUR, "leaf": LEAF_COLOUR}
    for b in boxes.values():
        if b.kind == "dummy":
            continue
        cx, cy = centre(b)
        rounded = b.kind in ("param", "leaf")
        ax.add_patch(FancyBboxPatch(
            (cx - b.width / 2, cy - b.height / 2), b.width, b.height,
            boxstyle="round,pad=0,rounding_size=0.06" if rounded else "square,pad=0",
            facecolor=colours[b.kind], edgecolor="#333333",
            linewidth=1.6 if b.kind == "root" else 0.6, zorder=2,
        ))
        title, shape = b.lines
        ax.text(cx, cy + LINE_IN / 2, title, ha="center", va="center", fontsize=FONT_PT,
                fontweight="bold" if b.kind != "leaf" else "normal", zorder=3)
        ax.text(cx, cy - LINE_IN / 2, shape, ha="center", va="center", fontsize=FONT_PT - 0.5,
                color="#444444", zorder=3)

    # spread the arrow heads entering one box along its top edge, ordered by where they come from
    arrivals = {}
    for chain in chains:
        arrivals.setdefault(chain[-1].key, []).append(chain)
    port = {}
    for key, incoming in arrivals.items():
        b = boxes[key]
        incoming.sort(key=lambda ch: ch[-2].x)
        m = len(incoming)
        for k, ch in enumerate(incoming):
            port[id(ch)] = (k + 0.5) / m * b.width * 0.7 - b.width * 0.35 if m > 1 else 0.0

    for chain in chains:
        points = []
        for i, b in enumerate(chain):
            cx, cy = centre(b)
            if b.kind == "dummy":
                points.append((cx, cy))
            elif i == 0:
                points.append((cx, cy - b.height / 2))
            else:
                points.append((cx + port[id(chain)], cy + b.height / 2))
        if len(points) > 2:
            xs, ys = zip(*points[:-1])
            ax.plot(xs, ys, color="#555555", linewidth=0.6, zorder=1)
        ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=6,
                                     color="#555555", linewidth=0.6, shrinkA=0, shrinkB=0, zorder=1))
    return fig
