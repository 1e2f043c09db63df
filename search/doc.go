// Package search parses and validates sweep specs and generates their trials:
// parameter spaces, grid and random samplers, trial keys and seeds.
//
// # Specs
//
// A spec is a TOML file (see sweeps/ for examples):
//
//	name = "coursework"          # required: identifies the sweep
//	seed = 0                     # trial seeds derive from (seed, trial key)
//	workers = 2                  # 0 (the default): the number of CPUs
//
//	[data]    source, path, train, val, test; seed, classes, dim (synthetic only)
//	[model]   hidden, activation, weight_scale, normalization, dropout, preprocess
//	[train]   dtype, optimizer, iterations | epochs, batch_size, learning_rate,
//	          lr_decay, lr_schedule, warmup_epochs, reg, momentum, decay_rate,
//	          beta1, beta2, epsilon, patience
//	[search]  method, metric, trials, max_trials, keep, sampler, budget,
//	          fuse, group_size
//
//	[search.params]              # any [model] or [train] key
//	learning_rate = [1e-3, 5e-3]                 # a list of values
//	reg = { log_uniform = [1e-3, 1.0] }          # a range (random search)
//	lr_decay = { uniform = [0.5, 1.0], steps = 3 } # a range on a grid
//	batch_size = { int_uniform = [50, 400] }
//	hidden = [[50], [100], [100, 100]]           # one list per network
//	weight_scale = ["he", 1e-3]                  # names and numbers mix
//	dropout = [0, 0.2, [0.5, 0.2]]               # one for all layers, or one per layer
//
// Defaults follow the coursework: hidden [50], relu, weight_scale 1e-4,
// normalization "none", no dropout, preprocess "mean_image", float32, sgd,
// batch 200, learning_rate 1e-3, lr_schedule "step" with lr_decay 0.95, reg
// 0, momentum 0.9, decay_rate 0.99, beta1 0.9, beta2 0.999, epsilon 1e-8, no
// warmup and no early stopping (patience 0); DefaultConfig holds them.
// 1000 iterations when neither iterations nor epochs is given (fixed or
// searched); source "embedded"; method "grid", metric "val_acc" (maximised; "val_loss" is
// minimised), max_trials 10000, keep 3. Data sizes of 0 leave the split to the
// data package. A relative data path is relative to the directory of the spec
// file, not the working directory, and Spec.Data.Path holds it absolute.
// Fashion-MNIST's path defaults to
// /usr/share/datasets/fashion-mnist; cifar10 and mnist need a path; embedded and
// synthetic take none. The top-level seed seeds the trials only, never the
// data: synthetic data has its own [data] seed (default 0), so reseeding a
// sweep trains new trials on the same data.
//
// A searched key overrides its fixed value. Parse is strict and reports every
// problem at once, each as "file:line: key: message" wrapping a sentinel error
// (ErrUnknownKey, ErrUnknownParam, ErrType, ErrInvalid, ...): unknown keys
// (with a did-you-mean), wrong types, values out of range, empty or repeated
// list values, min >= max, log ranges at or below 0, both iterations and
// epochs, settings that no optimizer or learning rate schedule of the sweep
// uses (momentum with sgd, lr_decay with cosine, warmup_epochs with step),
// a warmup_epochs of the sweep not less than one of its epochs, a list of
// drop probabilities whose length differs from that of a hidden value of
// the sweep (a list of one is one value for all layers), a searched hidden that is not a list of lists, random search without trials,
// trials with a grid, a range on a grid without steps, and more trials than
// max_trials (also capped at 1,000,000) or than a finite space holds.
//
// # Fused groups
//
// A grid's or a random search's trials (not an adaptive search's) train in
// groups by default: trials that share a minibatch stream (StreamKey in
// package trial: dtype, batch size, length, input preprocessing), of a
// first hidden layer at most trial.MaxFusedWidth (256) wide, are cut,
// in trial order, into the fewest groups of at most group_size trials
// (DefaultGroupSize, 12), as even as they can be; a group's members train
// side by side on the same minibatches, their first layers in one product,
// one group to a worker. A trial alone in its group trains on its own.
// Groups are fixed when trials are created, from the trials and group_size
// alone (never the workers); extending a sweep makes new groups. fuse =
// false trains every trial on its own (the trials created so, that is: a
// trial's group never changes, and fuse and group_size may change between
// runs, CheckCompatible allows it). Search.Fused says whether a sweep
// fuses; fuse and group_size are in the canonical form only when not at
// their defaults.
//
// # Trials
//
// A grid is the cartesian product of the searched values in nested-loop
// order: the first parameter of [search.params] varies slowest. A range with
// steps = N gives N values from min to max, evenly spaced (log-spaced for
// log_uniform, rounded for int_uniform). Random trial i draws every parameter
// from bits hashed from (seed, i, parameter name), drawing again when it
// repeats an earlier trial, so trials are distinct, the same spec always gives
// the same trials, and raising trials only appends. Generated floats (steps
// and samples) are rounded to 6 significant digits so that they print, store
// and compare exactly.
//
// A trial's Key is 16 hex digits of the SHA-256 of its whole resolved Config in
// canonical text, so a re-run or an extended sweep recognises its trials
// whatever their order; its Seed is SeedFor(spec seed, key). Keys added
// since the first trial keys (normalization, dropout, preprocess,
// lr_schedule, warmup_epochs, patience) are in the text only when not at
// their defaults, so sweeps made before them keep their keys; a Config
// decoded from before them has "" for their strings, which means the
// default (Config.WithDefaults fills them in). Spec.Canonical is
// the spec with all defaults written out, the form a store keeps;
// CheckCompatible refuses a spec that changes the fixed settings of an
// existing sweep and lists what changed.
//
// # What to run next
//
// A Scheduler decides from a sweep's history ([]TrialRecord, which a store
// adapts its records to) whether to Start a new trial, Promote a paused one,
// Wait, or finish; End lists the paused trials to prune when the sweep ends.
// Fixed runs Spec.Trials (a grid, or random trials drawn up front); Random
// draws each new trial from a Sampler (RandomSampler, or search/tpe's TPE);
// search/asha holds ASHA and Hyperband. Schedulers and samplers keep no state
// and never modify the history, so a resumed sweep rebuilds them from its
// spec and its store; every decision carries its Reason, to be recorded.
// (Not wired into sweep run yet: the spec keys and the store's side come
// next.)
//
// # Concurrency
//
// Parsing has no shared state; a Spec is not modified by its methods, so one
// Spec may be read by many goroutines. Trials own their Config (Hidden and
// Dropout are copied per trial).
package search
