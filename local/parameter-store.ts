/**
 * Local Parameter Store: the parameters local mode publishes (each pipeline's catalog entry, as its
 * stack does on AWS) and the two operations the handlers read them with, GetParameter and
 * GetParametersByPath (String parameters, version 1).
 */
import * as z from 'zod';
import { awsName, operation } from './aws-endpoint';
import { serviceError } from './aws-errors';

export class LocalParameterStore {
  private readonly parameters = new Map<string, string>();

  put(name: string, value: string): void {
    this.parameters.set(name, value);
  }

  operations() {
    const { parameters } = this;
    return {
      'AmazonSSM.GetParametersByPath': operation(
        z.object({
          Path: awsName,
          MaxResults: z.number().int().min(1).max(10).optional(),
          NextToken: z.string().optional(),
        }),
        (r) => {
          const below = [...parameters.keys()]
            .filter((key) => key.startsWith(`${r.Path}/`) && !key.slice(r.Path.length + 1).includes('/'))
            .sort();
          const start = Number(r.NextToken ?? 0);
          const page = below.slice(start, start + (r.MaxResults ?? 10));
          const next = start + page.length;
          return {
            Parameters: page.map((key) => ({ Name: key, Type: 'String', Value: parameters.get(key), Version: 1 })),
            NextToken: next < below.length ? String(next) : undefined,
          };
        },
      ),
      'AmazonSSM.GetParameter': operation(z.object({ Name: awsName }), (r) => {
        const value = parameters.get(r.Name);
        if (value === undefined) throw serviceError('ParameterNotFound', `Parameter ${r.Name} not found.`);
        return { Parameter: { Name: r.Name, Type: 'String', Value: value, Version: 1 } };
      }),
    };
  }
}
