/**
 * A deployment record's every change told as DeploymentChanged on the platform's bus (what a live console redraws:
 * steps and weights, status, alarms seen, interventions). The protocol (protocol.ts) writes through the store it is
 * given; the deploy function gives it this one, so no write can be made without being told. Telling is best effort:
 * a lost announcement costs a console one redraw, never a release step.
 */
import type { DeploymentStore, RunEventPublisher } from '../ports';

export function announcingChanges(store: DeploymentStore, events: RunEventPublisher): DeploymentStore {
  const tell = async (runId: string, pipeline?: string) => {
    const named = pipeline ?? (await store.getDeployment(runId).catch(() => undefined))?.pipeline;
    if (named) await events.publish({ kind: 'DeploymentChanged', runId, pipeline: named }).catch(() => undefined);
  };
  return {
    async createDeployment(deployment) {
      const created = await store.createDeployment(deployment);
      await tell(created.runId, created.pipeline);
      return created;
    },
    getDeployment: (runId) => store.getDeployment(runId),
    async moveDeployment(runId, from, to, fields) {
      const moved = await store.moveDeployment(runId, from, to, fields);
      if (moved) await tell(runId, moved.pipeline);
      return moved;
    },
    async recordStep(runId, step, entry) {
      await store.recordStep(runId, step, entry);
      await tell(runId);
    },
    async recordIntervention(runId, intervention) {
      await store.recordIntervention(runId, intervention);
      await tell(runId);
    },
  };
}
