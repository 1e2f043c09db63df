"""The Optuna side of issue 12's benchmark: Optuna (TPE sampler + HyperbandPruner) driving
the coursework's numpy two-layer net (../shared/bench/ref_numpy.py, or $YARDSTICK) on full
Fashion-MNIST (train 55000 / val 5000 / test 10000) under a wall-clock budget. Not part of
sweep. Needs only Debian's python3-optuna and python3-numpy (with libopenblas0-pthread).

Space: hidden {50,100,200,400}, learning_rate log [1e-5,1e-2], reg log [1e-4,1],
lr_decay [0.5,1], weight_scale log [1e-5,1e-2]; 10 epochs of batch 200 (275 steps each),
lr decayed once per epoch exactly as TwoLayerNet.train does when run straight through.
Each epoch reports val accuracy (trial.report / should_prune); the objective maximised is
the val accuracy after the last epoch, so the best trial is the best *completed* trial.

Budget: no trial starts after --budget seconds (Optuna's timeout) and a running trial stops
at its next epoch end past the budget (counted as stopped_by_budget, like sweep's trials
that checkpoint and stop). Data loading and the final test evaluation are not in the budget.
The best completed net's weights are kept in memory and scored once on the 10000 test images.

--jobs 2 runs two trials in threads (Optuna's n_jobs): numpy releases the GIL in BLAS, but
both trials then share the 2 cores and OpenBLAS's threads, and the global numpy RNG that
TwoLayerNet uses, so runs are not reproducible (with --jobs 1 they are, up to timing).

usage (benchmarks here unset OpenBLAS's overrides, see ../shared/bench/README.md):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/optuna_asha.py \
      --budget 120 --seed 0 [--jobs 2] [--mean-of 3]
prints one JSON object per seed; with --mean-of N, seeds seed..seed+N-1 and a last line
with mean_best_val_acc and mean_test_acc. The last line is always one JSON object.
"""
import argparse, json, os, sys, threading, time
import numpy as np
import optuna

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('YARDSTICK') or os.path.join(HERE, '..', '..', 'shared', 'bench'))
from ref_numpy import fmnist, TwoLayerNet  # noqa: E402

EPOCHS, BATCH = 10, 200


def run(data, seed, budget, jobs):
    X, y, Xv, yv, Xt, yt = data
    steps = X.shape[0] // BATCH  # 275: TwoLayerNet.train decays lr at step 0 of each call
    lock = threading.Lock()
    best = {'val': None, 'number': None, 'params': None}
    anytime = []

    def objective(trial):
        H = trial.suggest_categorical('hidden', [50, 100, 200, 400])
        lr = trial.suggest_float('learning_rate', 1e-5, 1e-2, log=True)
        reg = trial.suggest_float('reg', 1e-4, 1.0, log=True)
        decay = trial.suggest_float('lr_decay', 0.5, 1.0)
        std = trial.suggest_float('weight_scale', 1e-5, 1e-2, log=True)
        np.random.seed([seed, trial.number])  # global RNG: only meaningful with --jobs 1
        net = TwoLayerNet(X.shape[1], H, 10, std)
        with np.errstate(all='ignore'):  # diverging trials (large lr) overflow; keep quiet
            for epoch in range(1, EPOCHS + 1):
                net.train(X, y, Xv, yv, lr, decay, reg, num_iters=steps, batch_size=BATCH)
                lr *= decay  # what train() did internally; the next call decays once more
                val = float((net.predict(Xv) == yv).mean())
                trial.report(val, epoch)
                if epoch == EPOCHS:
                    break
                if trial.should_prune():
                    raise optuna.TrialPruned()
                if time.time() > deadline:
                    trial.set_user_attr('stopped_by_budget', True)
                    raise optuna.TrialPruned()
        with lock:
            if best['val'] is None or val > best['val']:
                best.update(val=val, number=trial.number, params=net.params)
        return val

    def after_trial(study, frozen):
        with lock:
            anytime.append([round(time.time() - t0, 2), best['val']])

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS, reduction_factor=3)
    study = optuna.create_study(direction='maximize', sampler=sampler, pruner=pruner)
    t0 = time.time()
    deadline = t0 + budget
    study.optimize(objective, timeout=budget, n_jobs=jobs, callbacks=[after_trial])
    elapsed = time.time() - t0

    states = [t.state for t in study.trials]
    stopped = sum(1 for t in study.trials if t.user_attrs.get('stopped_by_budget'))
    out = {'seed': seed, 'budget_s': budget, 'jobs': jobs, 'elapsed_s': round(elapsed, 2),
           'trials_started': len(study.trials),
           'trials_completed': states.count(optuna.trial.TrialState.COMPLETE),
           'trials_pruned': states.count(optuna.trial.TrialState.PRUNED) - stopped,
           'trials_stopped_by_budget': stopped,
           'best_val_acc': best['val'], 'best_trial': best['number'], 'best_params': None, 'test_acc': None}
    if best['number'] is not None:
        out['best_params'] = study.trials[best['number']].params
        net = TwoLayerNet.__new__(TwoLayerNet)
        net.params = best['params']
        out['test_acc'] = float((net.predict(Xt) == yt).mean())
    out['anytime'] = anytime
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--budget', type=float, default=120, help='wall-clock seconds per seed (default 120)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--jobs', type=int, default=1, choices=[1, 2], help='parallel trials (threads)')
    ap.add_argument('--mean-of', type=int, default=1, metavar='N', help='run seeds seed..seed+N-1 and average')
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    t = time.time()
    data = fmnist(ntrain=55000, nval=5000, ntest=10000)
    load_s = round(time.time() - t, 2)

    runs = []
    for seed in range(a.seed, a.seed + a.mean_of):
        r = run(data, seed, a.budget, a.jobs)
        r['load_s'] = load_s
        runs.append(r)
        print(json.dumps(r), flush=True)
    if a.mean_of > 1:
        mean = lambda k: (None if any(r[k] is None for r in runs) else float(np.mean([r[k] for r in runs])))
        print(json.dumps({'mean_of': a.mean_of, 'seeds': [r['seed'] for r in runs], 'budget_s': a.budget,
                          'jobs': a.jobs, 'mean_best_val_acc': mean('best_val_acc'),
                          'mean_test_acc': mean('test_acc'),
                          'trials_started': [r['trials_started'] for r in runs],
                          'best_val_acc': [r['best_val_acc'] for r in runs],
                          'test_acc': [r['test_acc'] for r in runs]}))


if __name__ == '__main__':
    main()
