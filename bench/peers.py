"""Peer timings for bench/peers.ts: the zoo CNN and the student MLP in PyTorch (CPU, 1 thread), and the linear SVM
peers (scikit-learn LinearSVC). Prints one JSON object. Usage: python3 bench/peers.py TASK [ARGS]"""
import json
import warnings
import sys
import time


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [
            {k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for d in threadpool_info()
        ]
    except Exception as e:  # threadpoolctl missing
        return [{"error": str(e)}]


def med(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def torch_nets(steps, rounds):
    import torch
    import torch.nn as nn

    torch.set_num_threads(1)
    torch.manual_seed(1)
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    mlp = nn.Sequential(nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 800), nn.ReLU(), nn.Linear(800, 10))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for name, net, shape, b in (("cnn", cnn, (1, 28, 28), 64), ("mlp", mlp, (784,), 128)):
        x = torch.rand((b,) + shape)
        y = torch.randint(0, 10, (b,))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            return float(loss)  # the loss read back every step, as trainClassifier does

        def fwd():
            with torch.no_grad():
                return net(x)

        for _ in range(3):
            step()
            fwd()
        st, fw = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            for _ in range(steps):
                fwd()
            fw.append((time.perf_counter() - t) / steps * 1000)
            t = time.perf_counter()
            for _ in range(steps):
                step()
            st.append((time.perf_counter() - t) / steps * 1000)
        out[name] = {"batch": b, "stepMs": med(st), "forwardMs": med(fw)}
    out["blas"] = blas_info()
    return out


def sklearn_svm(path, rounds):
    from sklearn.datasets import load_svmlight_file
    from sklearn.svm import LinearSVC

    xtr, ytr = load_svmlight_file(path + ".train")
    xte, yte = load_svmlight_file(path + ".test", n_features=xtr.shape[1])
    xtr, xte = xtr.toarray(), xte.toarray()
    ts, acc = [], 0.0
    for _ in range(rounds):
        t = time.perf_counter()
        clf = LinearSVC(C=1.0).fit(xtr, ytr)
        ts.append((time.perf_counter() - t) * 1000)
        acc = float((clf.predict(xte) == yte).mean())
    import sklearn
    return {"sklearn": sklearn.__version__, "fitMs": med(ts), "acc": acc, "blas": blas_info()}


if __name__ == "__main__":
    warnings.filterwarnings("ignore")  # LinearSVC convergence notes would pollute the JSON line
    task = sys.argv[1]
    if task == "torch":
        print(json.dumps(torch_nets(int(sys.argv[2]), int(sys.argv[3]))))
    elif task == "sklearn":
        print(json.dumps(sklearn_svm(sys.argv[2], int(sys.argv[3]))))
    else:
        raise SystemExit("unknown task " + task)
