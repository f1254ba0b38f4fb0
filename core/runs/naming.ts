/**
 * Execution names. A name is what a user reads in the Step Functions console and what makes a
 * redelivered event collide with the run it already started: `<pipeline>-<commit12>-<event8>`.
 * The event part lets a deliberate re-run of one commit get a new name while a duplicate
 * delivery (same event id) gets the same one.
 */
import { InvalidExecutionNameError } from '../sources/errors';

const MAX_EXECUTION_NAME = 80;

/** FNV-1a, 32 bit: a short, stable digest without I/O or crypto (core is pure). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

export function executionName(pipeline: string, commitId: string, deliveryId: string): string {
  const commit = commitId.replace(/[^0-9A-Za-z]/g, '').slice(0, 12);
  const name = `${pipeline}-${commit}-${fnv1a(deliveryId)}`;
  if (!/^[0-9A-Za-z_-]{1,80}$/.test(name) || name.length > MAX_EXECUTION_NAME) {
    throw new InvalidExecutionNameError(pipeline, commitId);
  }
  return name;
}
