// Built-in plugins, imported statically so that `bun build --compile` carries them.
import diskCache from "./caches/disk.ts";
import memoryCache from "./caches/memory.ts";
import tieredCache from "./caches/tiered.ts";
import kerasConverter from "./converters/keras/index.ts";
import pytorchConverter from "./converters/pytorch/index.ts";
import scikitLearnConverter from "./converters/scikit-learn/index.ts";
import activateStep from "./deploy/activate.ts";
import commandStep from "./deploy/command.ts";
import copyToDirStep from "./deploy/copy-to-dir.ts";
import gateStep from "./deploy/gate.ts";
import predictionsScore from "./score/predictions.ts";
import commandStrategy from "./strategies/command/index.ts";
import incrementalNn from "./strategies/incremental-nn/index.ts";
import randomForest from "./strategies/random-forest/index.ts";
import accuracyBelowTrigger from "./triggers/accuracy-below.ts";
import cronTrigger from "./triggers/cron.ts";
import manualTrigger from "./triggers/manual.ts";
import modelMissingTrigger from "./triggers/model-missing.ts";
import newDataTrigger from "./triggers/new-data.ts";
import samplesAboveTrigger from "./triggers/samples-above.ts";

export const builtinPlugins = [
  randomForest,
  incrementalNn,
  commandStrategy,
  cronTrigger,
  manualTrigger,
  newDataTrigger,
  modelMissingTrigger,
  samplesAboveTrigger,
  accuracyBelowTrigger,
  memoryCache,
  diskCache,
  tieredCache,
  gateStep,
  activateStep,
  copyToDirStep,
  commandStep,
  scikitLearnConverter,
  pytorchConverter,
  kerasConverter,
  predictionsScore,
];
