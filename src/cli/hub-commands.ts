/**
 * The Hub in the CLI: every `--model` (and verify-model's folder) also takes a Hub id, with
 * `--revision`, resolved in one place before any command runs; `download` and `cache ls`.
 */
import { Command } from 'commander';
import { listCache, resolveModelDir, type ResolveModelOptions } from '../io/hub/index.js';
import { repoName } from '../io/hub/errors.js';
import { hubCacheDir } from '../io/hub/settings.js';
import { downloadProgress } from './progress.js';

const REVISION = ['--revision <rev>', 'with a Hub id: branch, tag or commit (default main)'] as const;

/** Commands whose model comes as an argument rather than --model, and the files they need beyond a model's. */
const MODEL_ARGUMENT: Record<string, string[]> = { 'verify-model': ['expected.safetensors'] };

const subcommands = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...subcommands(s)]);

function hubOptions(o: { revision?: string; json?: boolean; cacheDir?: string; weights?: 'safetensors' | 'bin' }): ResolveModelOptions {
  return {
    revision: o.revision, cacheDir: o.cacheDir, weights: o.weights, progressCallback: o.json ? undefined : downloadProgress(),
    onWarning: (m) => console.error(`warning: ${m}`),
  };
}

/** Adds --revision to the commands that take a model, and resolves their model to a local folder before they run. */
export function acceptHubIds(program: Command): void {
  for (const c of subcommands(program)) {
    const model = c.options.find((o) => o.long === '--model');
    if (model) model.description += ' — or a Hugging Face Hub id, owner/name';
    if (model || c.name() in MODEL_ARGUMENT) c.option(...REVISION);
  }
  program.hook('preAction', async (_, command) => {
    const o = command.opts();
    if (typeof o.model === 'string') command.setOptionValue('model', await resolveModelDir(o.model, hubOptions(o)));
    const extra = MODEL_ARGUMENT[command.name()];
    if (extra && typeof command.processedArgs[0] === 'string') {
      // It checks every weight format it finds, as in a folder.
      command.processedArgs[0] = await resolveModelDir(command.processedArgs[0], { ...hubOptions(o), weights: o.weights ?? 'all', extraFiles: extra });
    }
  });
}

/** `download ID` and `cache ls`. */
export function addHubCommands(program: Command): void {
  program
    .command('download')
    .description("fetch a model from the Hugging Face Hub into the cache Python shares (config, weights, tokenizer files) and print its snapshot folder")
    .argument('<id>', 'owner/name')
    .option(...REVISION)
    .option('--cache-dir <dir>', 'hub cache (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('--json', 'one JSON object, no progress')
    .action(async (id: string, o: { revision?: string; cacheDir?: string; json?: boolean }) => {
      const dir = await resolveModelDir(id, hubOptions(o));
      console.log(o.json ? JSON.stringify({ id, revision: o.revision ?? 'main', path: dir }) : dir);
    });
  program
    .command('cache')
    .description('the Hugging Face Hub cache')
    .command('ls')
    .description('cached repositories (models, and datasets read by hf: id), their revisions (refs) and sizes')
    .option('--cache-dir <dir>', 'hub cache (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('--json', 'one JSON object per repository')
    .action((o: { cacheDir?: string; json?: boolean }) => {
      const cacheDir = hubCacheDir({ cacheDir: o.cacheDir });
      const repos = listCache(cacheDir);
      if (o.json) return repos.forEach((r) => console.log(JSON.stringify(r)));
      if (repos.length === 0) return console.log(`no models or datasets cached in ${cacheDir}`);
      for (const r of repos) {
        const refs = Object.entries(r.refs).map(([name, commit]) => `${name}=${commit.slice(0, 8)}`).join(' ') || '-';
        console.log(`${repoName(r).padEnd(40)} ${`${(r.size / 1e6).toFixed(1)} MB`.padStart(10)}  ${String(r.files).padStart(4)} files  ${r.snapshots.length} snapshot(s)  refs: ${refs}`);
      }
    });
}
