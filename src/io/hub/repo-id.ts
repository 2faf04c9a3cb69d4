/** Repository ids as the Hub accepts them: `owner/name` or a bare `name`. */

const PART = /^[\w.-]+$/;

/** True when `id` could name a Hub repository (huggingface_hub's validate_repo_id rules). */
export function isRepoId(id: string): boolean {
  const parts = id.split('/');
  if (parts.length > 2 || id.length > 96 || id.includes('--') || id.includes('..')) return false;
  return parts.every((p) => PART.test(p) && !/^[-.]|[-.]$/.test(p));
}

export function checkRepoId(id: string): void {
  if (!isRepoId(id)) {
    // Led by the path, as the folder loaders word a missing folder.
    throw new Error(`${id}: no such folder ('${id}' is neither a folder nor a Hugging Face repository id: owner/name, letters, digits, '-', '_', '.'; no '--' or '..'; at most 96 characters)`);
  }
}

/** True for a full commit hash, which names a snapshot without asking the Hub. */
export const isCommitHash = (revision: string): boolean => /^[0-9a-f]{40}$/.test(revision);
