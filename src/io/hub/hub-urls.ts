/**
 * The Hub's file URLs and where the token may go: no Node built-ins, so that the browser's resolver
 * (web/hub.ts) builds the same URLs as the Node client.
 */
import type { FileRef } from './errors.js';

export const DEFAULT_REVISION = 'main';
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/**
 * `{endpoint}/{repo}/resolve/{revision}/{file}` (`{endpoint}/datasets/{repo}/…` for a dataset), the
 * revision as one path segment (refs/pr/1 → refs%2Fpr%2F1).
 */
export function resolveUrl(endpoint: string, ref: FileRef): string {
  const file = ref.file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${ref.type === 'dataset' ? 'datasets/' : ''}${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
}

/** Authorization only for the Hub itself, never for the content host a redirect leads to. */
export function authHeaders(url: string, endpoint: string, token: string | undefined): Record<string, string> {
  return token && new URL(url).origin === new URL(endpoint).origin ? { authorization: `Bearer ${token}` } : {};
}
