// `fslm nats-config`: prints the nats-server configuration for the stacks given: an NKey user per identity
// (the router; each stage) with the per-subject permissions nats-permissions.ts derives, plus listener,
// TLS and cluster settings. Seeds live in --keys DIR (DIR/<identity>.nk, mode 0600; made when missing and
// named on stderr); the configuration holds only their public keys.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nkeys } from 'nats';
import { splitHostPort } from '../shared/address.ts';
import { errorMessage } from '../shared/errors.ts';
import { readNkeySeed } from '../shared/nats-connect.ts';
import { natsIdentities, type NatsIdentity } from '../router/src/nats-permissions.ts';
import { loadStackFile } from '../router/src/stack-loader.ts';
import type { StackDefinition } from '../router/src/types.ts';
import { natsServerConfig, type NatsServerConfigOptions } from './nats-server-config.ts';

export const NATS_CONFIG_USAGE = `usage: fslm nats-config --stack FILE [--stack FILE ...] --keys DIR [--name NAME] [--listen HOST:PORT] [--monitor HOST:PORT]
                        [--tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-verify]]
                        [--cluster NAME --cluster-listen HOST:PORT --routes URL[,URL...]]
  prints the nats-server configuration (JSON) on stdout: one NKey user per identity (the router, each stage)
  whose permissions allow only its own subjects; seeds are DIR/<identity>.nk (made when missing, mode 0600):
  give each process its own with --nats-nkey (fslm router: DIR/router.nk; fslm stage: DIR/stage.<stack>.<stage>.nk)`;

/** The public part of an NKey pair, as nats.js's nkeys module exposes it. */
interface KeyPair {
  getPublicKey(): string;
  getSeed(): Uint8Array;
}

/** The seed file of an identity in `dir`. */
export function seedFileOf(dir: string, identity: string): string {
  return path.join(dir, `${identity}.nk`);
}

/**
 * Public keys of `identities`, from their seed files in `dir`; a missing seed is created (mode 0600) and
 * reported through `created`. Throws when a seed file is unreadable or not an NKey user seed.
 */
export function identityKeys(dir: string, identities: readonly NatsIdentity[], created: (file: string) => void = () => undefined): Map<string, string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = new Map<string, string>();
  for (const identity of identities) {
    const file = seedFileOf(dir, identity.name);
    if (!existsSync(file)) {
      const pair = (nkeys as { createUser(): KeyPair }).createUser();
      writeFileSync(file, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      created(file);
    }
    const pair = (nkeys as { fromSeed(seed: Uint8Array): KeyPair }).fromSeed(readNkeySeed(file));
    keys.set(identity.name, pair.getPublicKey());
  }
  return keys;
}

/** The server configuration for `stacks` with NKey users from the seeds in `keysDir`. */
export function stackNatsConfig(stacks: readonly StackDefinition[], keysDir: string, server: Omit<NatsServerConfigOptions, 'users'>, created?: (file: string) => void): Record<string, unknown> {
  const identities = natsIdentities(stacks);
  const keys = identityKeys(keysDir, identities, created);
  return natsServerConfig({ ...server, users: identities.map((identity) => ({ nkey: keys.get(identity.name)!, identity })) });
}

export async function runNatsConfig(argv: string[]): Promise<number> {
  let values;
  const stacks: StackDefinition[] = [];
  let server: Omit<NatsServerConfigOptions, 'users'>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: 'string', multiple: true },
        keys: { type: 'string' },
        name: { type: 'string', default: 'fslm-nats' },
        listen: { type: 'string', default: '0.0.0.0:4222' },
        monitor: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'tls-verify': { type: 'boolean', default: false },
        cluster: { type: 'string' },
        'cluster-listen': { type: 'string' },
        routes: { type: 'string' },
      },
      strict: true,
    }));
    if (!values.stack?.length) throw new Error('--stack FILE is required');
    if (!values.keys) throw new Error('--keys DIR is required (where the identities\' seeds are kept)');
    splitHostPort(values.listen!, '--listen');
    if (values.monitor) splitHostPort(values.monitor, '--monitor');
    const tlsGiven = [values['tls-cert'], values['tls-key'], values['tls-ca']].filter(Boolean).length;
    if (tlsGiven !== 0 && tlsGiven !== 3) throw new Error('--tls-cert, --tls-key and --tls-ca go together');
    if (values['tls-verify'] && tlsGiven === 0) throw new Error('--tls-verify needs --tls-cert, --tls-key and --tls-ca');
    const clusterGiven = [values.cluster, values['cluster-listen'], values.routes].filter(Boolean).length;
    if (clusterGiven !== 0 && clusterGiven !== 3) throw new Error('--cluster, --cluster-listen and --routes go together');
    if (values['cluster-listen']) splitHostPort(values['cluster-listen'], '--cluster-listen');
    for (const file of values.stack) stacks.push(await loadStackFile(file));
    server = {
      serverName: values.name!, listen: values.listen!, monitor: values.monitor,
      tls: tlsGiven ? { certFile: values['tls-cert']!, keyFile: values['tls-key']!, caFile: values['tls-ca']!, verifyClients: values['tls-verify']! } : undefined,
      cluster: clusterGiven ? { name: values.cluster!, listen: values['cluster-listen']!, routes: values.routes!.split(',').map((r) => r.trim()) } : undefined,
    };
  } catch (error) {
    console.error(`fslm nats-config: ${errorMessage(error)}\n${NATS_CONFIG_USAGE}`);
    return 2;
  }
  try {
    const config = stackNatsConfig(stacks, values.keys!, server, (file) => console.error(`fslm nats-config: made the seed ${file}`));
    console.log(JSON.stringify(config, null, 2));
    return 0;
  } catch (error) {
    console.error(`fslm nats-config: ${errorMessage(error)}`);
    return 1;
  }
}
