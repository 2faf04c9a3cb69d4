/** The `nystromformer` command. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { provideOnnxRuntime } from '../runtime/index.js';
import { benchAttention } from './bench-attention.js';
import { benchGemm } from './bench-gemm.js';
import { benchModel } from './bench-model.js';
import { benchTrain } from './bench-train.js';
import { benchLraStep } from './bench-lra-step.js';
import { verifyAttentionDir } from './verify-attention.js';
import { verifyModelCommand } from './verify-model.js';
import { classifyCommand, embedCommand, fillMaskCommand } from './pipeline-commands.js';
import { trainCommand } from './train-command.js';
import { evalCommand } from './eval-command.js';
import { lraCommand, lraDataCommand } from './lra-command.js';
import { LRA_SETTINGS } from '../data/index.js';
import { lraReportCommand } from './lra-report.js';
import {
  matrixSizes, nonNegativeInt, nonNegativeNumber, parsedOption, port, positiveInt, positiveIntList, positiveNumber, seed,
} from './parse-flags.js';
import { RESUME_MAY_CHANGE_FLAGS } from './run-options.js';
import { setBackend } from '../engine/index.js';
import { WEIGHT_DTYPES } from '../nn/index.js';

/** What --resume allows: the flags that do not change the steps already taken. */
const RESUME_HELP = `a flag given with it that would change the run's math (such as --lr, --batch-size, --seed) is refused; ${RESUME_MAY_CHANGE_FLAGS} may change (e.g. a larger --steps extends the run)`;
import { acceptHubIds, addHubCommands } from './hub-commands.js';

// runtime 'onnx' for fromPretrained and loadModel (--runtime onnx).
provideOnnxRuntime();

// A reader that stops early (`bench gemm --json | head -1`) closes the pipe: stop quietly, as Unix
// tools do, instead of a stack trace for the next line.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

const program = new Command()
  .name('nystromformer')
  .description('Nyströmformer in TypeScript: efficient-attention transformers for Node.js and browsers')
  // this file is dist/src/cli/main.js in the package
  .version(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version, '-V, --version')
  .showHelpAfterError();

const bench = program.command('bench').description('benchmarks that print JSON lines with --json');

bench
  .command('gemm')
  .description('matrix-product throughput, WebAssembly vs native (onnxruntime), in GFLOP/s')
  .option('--json', 'one JSON object per line')
  .option('--threads <n>', 'kernel threads (default: available cores)', positiveInt)
  .addOption(parsedOption('--sizes <list>', 'comma-separated MxKxN products', matrixSizes, '1024x1024x1024,4096x768x3072'))
  .option('--impl <list>', 'comma-separated implementations: wasm,native,webgpu', 'wasm,native')
  .option('--seconds <s>', 'minimum timing per measurement', positiveNumber, 2)
  .addHelpText('after', '\nThe defaults take about 15 s on 2 cores. More shapes: --sizes 512x512x512,1024x1024x1024,2048x2048x2048,4096x768x3072 (each at least --seconds per implementation).')
  .action(benchGemm);

bench
  .command('attention')
  .addOption(deviceOption())
  .description('time and working memory of Nyström vs exact softmax attention as n grows')
  .option('--json', 'one JSON object per line')
  .addOption(parsedOption('--n <list>', 'comma-separated sequence lengths', positiveIntList, '1024,4096,16384'))
  .option('--batch <b>', 'batch size', positiveInt, 1)
  .option('--heads <h>', 'attention heads', positiveInt, 12)
  .option('--dim <d>', 'head size', positiveInt, 64)
  .option('--landmarks <m>', 'Nyström landmarks', positiveInt, 64)
  .option('--conv <k>', 'Nyström conv kernel size on V (0 = none)', nonNegativeInt, 33)
  .option('--backward', 'also time forward+backward')
  .option('--impl <list>', 'comma-separated: nystrom,softmax', 'nystrom,softmax')
  .option('--threads <n>', 'kernel threads (default: available cores)', positiveInt)
  .option('--seconds <s>', 'minimum timing per measurement', positiveNumber, 1)
  .option('--max-softmax-n <n>', 'skip exact attention above this length', positiveInt, 4096)
  .addHelpText('after', "\nThe defaults take about 15 s on 2 cores, 40 s with --backward (exact attention's time grows as n²).\n" +
    "The README's sweep: --n 512,1024,2048,4096,8192,16384,32768,65536 --max-softmax-n 8192 --backward (about 2 minutes);\n" +
    '--max-softmax-n 16384 adds about 4 minutes for exact attention at 16384.')
  .action(benchAttention);

/** The options both whole-model benchmarks take; defaults differ by the model size each measures. */
function modelBench(name: string, description: string, d: { n: string; attention: string; layers: number; hidden: number; heads: number; repeats: number }): Command {
  return bench
    .command(name)
    .description(description)
    .option('--json', 'one JSON object per line')
    .addOption(parsedOption('--n <list>', 'comma-separated sequence lengths', positiveIntList, d.n))
    .option('--attention <list>', `comma-separated attentions (${d.attention})`, d.attention)
    .option('--landmarks <m>', 'landmarks for nystrom', positiveInt, 64)
    .option('--layers <n>', 'layers of the random model', positiveInt, d.layers)
    .option('--hidden <h>', 'hidden size of the random model', positiveInt, d.hidden)
    .option('--heads <h>', 'heads of the random model', positiveInt, d.heads)
    .option('--repeats <r>', 'timed runs after one warm-up (the median is reported)', positiveInt, d.repeats)
    .option('--threads <n>', 'kernel threads (default: available cores)', positiveInt)
    .addOption(deviceOption());
}

modelBench('model', 'inference time and working memory of a whole model (random BERT-base size by default) as n grows',
  { n: '512,4096,16384', attention: 'nystrom,hf', layers: 12, hidden: 768, heads: 12, repeats: 1 })
  .addHelpText('after', '\nThe defaults take about 1.5 minutes on 2 cores, most of it Nyström at 16384 and dense attention at 4096. Shorter: --n 512,4096.')
  .option('--model <dir>', 'a checkpoint folder instead of a random model')
  .option('--max-dense-n <n>', 'skip dense attention above this length', positiveInt, 4096)
  .action(benchModel);

modelBench('infer', 'forward time of a whole model (random BERT-base size by default) on the engine and on onnxruntime-node as n grows',
  { n: '512,4096', attention: 'nystrom', layers: 12, hidden: 768, heads: 12, repeats: 3 })
  .addHelpText('after', "\nThe defaults take about 45 s on 2 cores. The README's table: --n 512,4096,16384 (about 3 minutes more; --repeats 1 saves half of it).")
  .option('--runtime <list>', 'comma-separated runtimes: engine,onnx', 'engine,onnx')
  .option('--dtype <list>', 'comma-separated weight types: fp32,q8 (8-bit Linear weights)', 'fp32')
  .option('--model <dir>', 'a checkpoint folder instead of a random model')
  .option('--max-dense-n <n>', 'skip dense attention above this length', positiveInt, 4096)
  .action(async (o) => (await import('./bench-infer.js')).benchInfer(o));

modelBench('train', 'training-step throughput (forward, backward, AdamW) of a classifier as n grows, Nyström vs softmax',
  { n: '512,4096', attention: 'nystrom,softmax', layers: 4, hidden: 256, heads: 4, repeats: 3 })
  .addHelpText('after', '\nThe defaults take about 30 s on 2 cores, most of it softmax at 4096. Longer: --n 512,1024,2048,4096,8192 (softmax at 8192: about 20 s a step).')
  .option('--batch <b>', 'sequences per step', positiveInt, 1)
  .option('--profile', 'after the timing, one more step with every kernel timed: a line per kernel, and the time outside them')
  .action(benchTrain);

bench
  .command('lra-step')
  .addOption(deviceOption())
  .description('one training step of the LRA encoder per attention as n grows: ms and peak memory (the paper\'s efficiency table)')
  .option('--json', 'one JSON object per line')
  .addOption(parsedOption('--n <list>', 'comma-separated sequence lengths', positiveIntList, '1024,2048,4096,8192,16384'))
  .option('--attention <list>', 'comma-separated attention names', 'softmax,nystrom-64,linformer-256,performer-256')
  .option('--batch <b>', 'sequences per step (paper: 32)', positiveInt, 1)
  .option('--accumulate <k>', 'micro-batches per step, gradients summed (batch 32 at n = 16384 needs 4 to fit WebAssembly\'s 4 GiB)', positiveInt, 1)
  .option('--repeats <r>', 'timed steps after one warm-up (the median is reported)', positiveInt, 1)
  .option('--threads <n>', 'kernel threads (default: available cores)', positiveInt)
  .option('--profile', 'after the timing, one more step with every kernel timed: a line per kernel, and the time outside them')
  .addHelpText('after', "\nThe defaults (docs/lra's sweep) take about a minute on 2 cores, most of it softmax at 16384. The paper's batch: --batch 32 (about 30 times as long).")
  .action(benchLraStep);

program
  .command('verify-attention')
  .description('check Nyström and softmax attention against PyTorch fixtures (docs/formats.md) in DIR')
  .argument('<dir>', 'folder of .safetensors fixtures')
  .option('--json', 'one JSON object per fixture')
  .action((dir: string, options: { json?: boolean }) => verifyAttentionDir(dir, options));

program
  .command('train')
  .addOption(deviceOption())
  .description('train a Nyströmformer classifier; with no options, a small one on the embedded synthetic task (about a minute)')
  .option('--task <task>', 'synthetic (embedded: which of two marker tokens is more frequent), glue/<task> (e.g. glue/sst2), imdb, mlm (raw text)', 'synthetic')
  .option('--data <path>', 'GLUE folder (glue/*), aclImdb folder or .csv/.jsonl file (imdb), .txt file or folder (mlm); hf:owner/name for a Hub dataset (hf:nyu-mll/glue, hf:stanfordnlp/imdb)')
  .option('--model <dir>', 'fine-tune this Hugging Face checkpoint (its tokenizer.json tokenizes the text)')
  .option('--config <file>', 'start fresh from these config.json fields (synthetic: over the small default model)')
  .option('--tokenizer <dir>', 'folder with tokenizer.json, for --config on text tasks')
  .option('--seq-len <n>', 'tokens per example for text tasks (default: min(512, max_position_embeddings))', positiveInt)
  .option('--attention <mode>', 'nystrom or softmax', 'nystrom')
  .option('--landmarks <m>', 'Nyström landmarks', positiveInt, 16)
  .option('--batch-size <b>', 'sequences per batch', positiveInt, 16)
  .option('--lr <rate>', 'peak learning rate', positiveNumber, 1e-3)
  .option('--steps <n>', 'optimizer steps', positiveInt, 300)
  .option('--epochs <n>', 'passes over the training set (instead of --steps)', positiveNumber)
  .option('--schedule <kind>', 'constant, linear, cosine or onecycle', 'linear')
  .option('--optimizer <name>', 'adamw or sgd', 'adamw')
  .option('--weight-decay <w>', 'decoupled weight decay (not on biases and LayerNorm)', nonNegativeNumber, 0.01)
  .option('--clip-norm <c>', 'clip the global gradient norm (0: off)', nonNegativeNumber, 1)
  .option('--accumulate <k>', 'micro-batches per step', positiveInt, 1)
  .option('--eval-every <n>', 'evaluate every n steps', positiveInt, 50)
  .option('--patience <n>', 'stop after n evaluations without improvement (0: never)', nonNegativeInt, 0)
  .option('--checkpoint-every <n>', 'checkpoint every n steps', positiveInt, 100)
  .option('--seed <s>', 'seed for data, initialisation, order and dropout', seed, 1)
  .option('--train-size <n>', 'synthetic training sequences', positiveInt, 4000)
  .option('--eval-size <n>', 'synthetic evaluation sequences', positiveInt, 500)
  .option('--out <dir>', 'run folder: options.json, train.jsonl, checkpoints/, best/, metrics.json; a folder that holds a run is refused without --resume or --overwrite', 'runs/synthetic')
  .option('--resume', `continue from the run folder's latest checkpoint with the options it was started with (options.json): --out is enough; ${RESUME_HELP}`)
  .option('--overwrite', "replace the run in --out (its train.jsonl, checkpoints/, best/, metrics.json) with a new one")
  .option('--bad-rows <policy>', 'malformed data rows: skip (with a warning naming file and line) or fail', 'skip')
  .option('--json', 'evaluations and final metrics as JSON lines on stdout')
  .action(trainCommand);

program
  .command('eval')
  .addOption(deviceOption())
  .description("a trained classifier's metrics on a task's dev/test split (GLUE metrics for glue/*), or an lra run's test accuracy on an LRA task")
  .requiredOption('--model <dir>', 'sequence-classification checkpoint with tokenizer.json, or an `nystromformer lra` run folder (with --task listops, text, …)')
  .requiredOption('--task <task>', `glue/<task> or imdb; or an LRA task: ${Object.keys(LRA_SETTINGS).join(', ')}`)
  .requiredOption('--data <path>', 'GLUE folder, aclImdb folder or .csv/.jsonl file (all of it is evaluated); for LRA tasks the folder `lra --data` reads (its test split is evaluated); hf:owner/name for a Hub dataset (hf:nyu-mll/glue, hf:stanfordnlp/imdb)')
  .option('--attention <mode>', 'nystrom or softmax (LRA runs keep their own)', 'nystrom')
  .option('--landmarks <m>', 'Nyström landmarks', positiveInt, 64)
  .option('--seq-len <n>', "tokens per example (LRA: the run's length by default)", positiveInt)
  .option('--batch-size <b>', 'sequences per batch', positiveInt, 16)
  .option('--bad-rows <policy>', 'skip or fail', 'skip')
  .option('--seed <s>', 'seed', seed, 1)
  .option('--json', 'one JSON object')
  .addOption(runtimeOption())
  .action(evalCommand);

program
  .command('lra')
  .addOption(deviceOption())
  .description("train the Long Range Arena encoder on a task and report test accuracy, time per step and peak memory (the paper's settings unless overridden)")
  .addHelpText('after', `\n--data per task:\n${Object.entries(LRA_SETTINGS).map(([name, t]) => `  ${name.padEnd(11)}${t.dataHelp}`).join('\n')}\n\nPaper settings (length / batch / warm-up / steps):\n${Object.entries(LRA_SETTINGS).map(([name, t]) => `  ${name.padEnd(11)}${t.length} / ${t.batchSize} / ${t.warmup} / ${t.steps}`).join('\n')}`)
  .option('--task <task>', Object.keys(LRA_SETTINGS).join(', '), 'listops')
  .option('--attention <name>', 'softmax, nystrom-32|64|128|256, linformer-<k>, performer-<m>', 'nystrom-64')
  .option('--data <dir>', "the task's files in the official layout (see below); listops and pathfinder are generated without it")
  .option('--steps <n>', "optimizer steps (default: the paper's for the task)", positiveInt)
  .option('--warmup <n>', 'one-cycle warm-up steps (default: the paper\'s share of the steps, e.g. ListOps 1000 of 5000)', positiveInt)
  .option('--batch-size <b>', 'examples per step (default: the paper\'s)', positiveInt)
  .option('--lr <rate>', 'peak learning rate (paper: 1e-4)', positiveNumber, 1e-4)
  .option('--length <n>', 'longest input; longer ones are truncated (default: the paper\'s)', positiveInt)
  .option('--dynamic-padding', 'pad each batch to its longest example and average over the real tokens (faster); by default, as the official code, every input is padded to the length rounded up to a power of two (ListOps 2048) and pooling averages over all positions')
  .option('--drop-brackets', "ListOps: feed the expressions without their closing brackets, as LRA's input pipeline did until June 2021 (its tokenizer kept alphanumeric tokens only), the one the paper's code used; `eval` of the run does the same")
  .option('--train-size <n>', 'training examples used (generated tasks: generated; ListOps 96000, Pathfinder 80000)', positiveInt)
  .option('--eval-size <n>', 'validation and test examples each (generated: ListOps 2000, Pathfinder 10000)', positiveInt)
  .option('--eval-every <n>', "validate every n steps; the best validation's weights are tested (default: the paper's interval, e.g. ListOps 50)", positiveInt)
  .option('--seed <s>', 'seed', seed, 1)
  .option('--out <dir>', 'run folder (default: runs/lra-<task>-<attention>); a folder that holds a run is refused without --resume or --overwrite')
  .option('--checkpoint-every <n>', 'checkpoint every n steps (default: at the end only)', positiveInt)
  .option('--resume', `continue from the run folder's latest checkpoint with the options it was started with (options.json): --out is enough; ${RESUME_HELP}`)
  .option('--overwrite', "replace the run in --out (its train.jsonl, checkpoints/, best/, result.json) with a new one")
  .option('--json', 'the result as one JSON line')
  .action(lraCommand);

program
  .command('lra-data')
  .description('write generated LRA data in the official layout (ListOps TSVs, Pathfinder PNGs with metadata) to train several models on the same files')
  .requiredOption('--task <task>', 'listops or pathfinder')
  .requiredOption('--out <dir>', 'folder to write')
  .option('--train-size <n>', 'training examples (ListOps 96000, Pathfinder 80000)', positiveInt)
  .option('--eval-size <n>', 'validation and test examples each (ListOps 2000, Pathfinder 10000)', positiveInt)
  .option('--length <n>', 'ListOps: longest expression in tokens (2000)', positiveInt)
  .option('--seed <s>', 'seed', seed, 1)
  .action(lraDataCommand);

program
  .command('lra-report')
  .description("tabulate nystromformer lra runs beside the paper's numbers (markdown) and chart them (SVG)")
  .argument('<dirs...>', 'run folders (each with result.json), or folders of them')
  .option('--scaling <file>', 'JSON lines of bench lra-step --json, for the time and memory panels')
  .option('--out <dir>', 'write lra-report.md and lra-report.svg here')
  .action(lraReportCommand);

program
  .command('plot')
  .description('draw the training curves of run folders (their train.jsonl) as one SVG: loss, an evaluation metric and the learning rate against step')
  .argument('<dirs...>', 'run folders of train or lra (or folders of them, or train.jsonl files)')
  .option('--out <file>', 'SVG to write (default: curves.svg in the first folder)')
  .option('--metric <name>', 'evaluation field to draw: accuracy, loss, or a task metric such as f1, mcc, pearson', 'accuracy')
  // Imported when used, as export and serve.
  .action(async (dirs: string[], options) => (await import('./plot-command.js')).plotCommand(dirs, options));

/** The options every pipeline command takes. */
function pipelineCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('[text...]', 'texts (default: one per line from --file or standard input)')
    .requiredOption('--model <dir>', 'Hugging Face model folder (config.json, weights, tokenizer.json)')
    .option('--file <path>', 'read texts from this file, one per line')
    .option('--json', 'one JSON object per text')
    .addOption(deviceOption())
    .option('--attention <mode>', "hf (Hugging Face's semantics), nystrom (linear, any length) or softmax (exact)")
    .option('--landmarks <m>', 'landmarks for --attention nystrom (default: the config)', positiveInt)
    .addOption(runtimeOption())
    .addOption(dtypeOption())
    .option('--truncate', "cut texts to the model's position table instead of failing")
    .option('--max-length <n>', 'cut texts to this many tokens (implies --truncate, whose default is max_position_embeddings)', positiveInt);
}

pipelineCommand('fill-mask', 'the most likely tokens for each [MASK] in a text')
  .option('--top-k <k>', 'candidates per mask', positiveInt, 5)
  .action(fillMaskCommand);

pipelineCommand('classify', 'labels and scores of a sequence-classification model')
  .option('--pair <text>', 'second text of a pair (e.g. the hypothesis for NLI)')
  .action(classifyCommand);

pipelineCommand('embed', 'one vector per text (mean or [CLS] pooling, unit length)')
  .option('--pooling <p>', 'mean or cls', 'mean')
  .action(embedCommand);

program
  .command('export')
  .description('write a model folder as ONNX in the layout transformers.js reads (config.json, tokenizer files, onnx/model.onnx)')
  .requiredOption('--model <dir>', 'Hugging Face model folder (config.json, weights), or an `lra` run folder')
  .requiredOption('--out <dir>', 'folder to write')
  .option('--attention <mode>', "hf (Hugging Face's semantics; its Nyström branch fixes the length), nystrom (any length) or softmax")
  .option('--landmarks <m>', 'landmarks for --attention nystrom (default: the config)', positiveInt)
  .option('--architecture <name>', "export as this class instead of config.json's (NystromformerModel: last_hidden_state, for feature extraction)")
  .option('--external-data', 'weights in onnx/model.onnx_data at any size (default: past 1.5 GB)')
  .addOption(new Option('--dtype <d>', 'q8: also write onnx/model_quantized.onnx, every Linear layer 8-bit (transformers.js\'s default dtype in browsers)').choices([...WEIGHT_DTYPES]))
  .option('--json', 'one JSON object')
  // Imported when used: the exporter is needed by this command only.
  .action(async (options) => (await import('./export-command.js')).exportCommand(options));

program
  .command('verify-model')
  .description('check a Hugging Face model folder holding expected.safetensors (docs/formats.md), once per weight format it has')
  .argument('<dir>', 'model folder: config.json, model.safetensors and/or pytorch_model.bin, expected.safetensors')
  .option('--json', 'one JSON object per weight format')
  .addOption(new Option('--weights <format>', 'check only this format').choices(['safetensors', 'bin']))
  .addOption(runtimeOption())
  .action(verifyModelCommand);

program
  .command('serve')
  .description('serve the browser demo with the cross-origin isolation headers shared memory needs')
  .option('--port <n>', 'port (0: any free one)', port, 8080)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  // Imported when used: node:http is needed by this command only.
  .action(async (options) => (await import('./serve-command.js')).serveCommand(options));

/** --device of the commands whose work runs on the engine and reads back asynchronously (training, evaluation). */
function deviceOption(): Option {
  return new Option('--device <device>', 'where ops run: cpu (WebAssembly threads), webgpu, or auto (WebGPU where an adapter exists); default: NYSTROMFORMER_DEVICE, else cpu')
    .choices(['cpu', 'webgpu', 'auto']);
}

/** --dtype of the inference commands: how the Linear weights are held. */
function dtypeOption(): Option {
  return new Option('--dtype <d>', "fp32, or q8 (8-bit Linear weights, one scale per output channel; activations quantized per token); default: the folder's")
    .choices([...WEIGHT_DTYPES]);
}

/** --runtime of every command that runs a model folder's forward pass. */
function runtimeOption(): Option {
  return new Option('--runtime <r>', 'engine, or onnx (the encoder exported in memory and run on onnxruntime-node)').choices(['engine', 'onnx']);
}

// Commands with --device pick their backend before they start.
program.hook('preAction', async (_program, command) => {
  if (!command.options.some((o) => o.long === '--device')) return;
  const device = command.opts().device as 'cpu' | 'webgpu' | 'auto' | undefined;
  await setBackend(device === 'cpu' ? 'wasm' : device);
});

addHubCommands(program);
// Last: every command declared above that takes --model also takes a Hub id and --revision.
acceptHubIds(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`nystromformer: ${(e as Error).message}`);
  process.exit(1);
}
