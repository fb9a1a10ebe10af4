// `fslm nats-config`: prints the nats-server configuration for the stacks given: an NKey user per identity
// (the router; each stage) with the per-subject permissions nats-permissions.ts derives, plus listener,
// TLS and cluster settings. Seeds live in --keys DIR (DIR/<identity>.nk, mode 0600; made when missing and
// named on stderr); the configuration holds only their public keys.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nkeys } from 'nats';
import { EXIT_USAGE, fslmCommand, hostPort, parseCommandLine } from '../shared/command-line.ts';
import { errorMessage } from '../shared/errors.ts';
import { readNkeySeed } from '../shared/nats-connect.ts';
import { natsIdentities, type NatsIdentity } from '../router/src/nats-permissions.ts';
import { loadStackFile } from '../router/src/stack-loader.ts';
import type { StackDefinition } from '../router/src/types.ts';
import { natsServerConfig, type NatsServerConfigOptions } from './nats-server-config.ts';

interface NatsConfigFlags {
  stack: string[];
  keys: string;
  name: string;
  listen: string;
  monitor?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsVerify?: boolean;
  cluster?: string;
  clusterListen?: string;
  routes?: string;
}

function natsConfigCommand() {
  return fslmCommand('fslm nats-config', 'Print the nats-server configuration (JSON) for stacks: one NKey user per identity (the router, each stage) allowed only its own subjects.')
    .requiredOption('--stack <FILE>', 'a stack definition (repeat it for more stacks)', (file: string, files: string[] | undefined) => [...(files ?? []), file])
    .requiredOption('--keys <DIR>', 'where the identities\' seeds are kept: DIR/<identity>.nk, made when missing (mode 0600)')
    .option('--name <NAME>', 'the server\'s name', 'fslm-nats')
    .option('--listen <HOST:PORT>', 'client address', hostPort, '0.0.0.0:4222')
    .option('--monitor <HOST:PORT>', 'HTTP monitor address', hostPort)
    .option('--tls-cert <FILE>', 'the server\'s certificate (TLS for clients and routes)')
    .option('--tls-key <FILE>', 'its private key')
    .option('--tls-ca <FILE>', 'the CA that signs clients and the other servers')
    .option('--tls-verify', 'require client certificates signed by --tls-ca')
    .option('--cluster <NAME>', 'the cluster\'s name')
    .option('--cluster-listen <HOST:PORT>', 'route address', hostPort)
    .option('--routes <URL[,URL...]>', 'the other servers\' route URLs')
    .addHelpText('after', `
Give each process its own seed with --nats-nkey: fslm router DIR/router.nk, fslm stage DIR/stage.<stack>.<stage>.nk.`);
}

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
  const line = parseCommandLine<NatsConfigFlags>(natsConfigCommand(), argv, (flags) => {
    const tlsGiven = [flags.tlsCert, flags.tlsKey, flags.tlsCa].filter(Boolean).length;
    if (tlsGiven !== 0 && tlsGiven !== 3) throw new Error('--tls-cert, --tls-key and --tls-ca go together');
    if (flags.tlsVerify && tlsGiven === 0) throw new Error('--tls-verify needs --tls-cert, --tls-key and --tls-ca');
    const clusterGiven = [flags.cluster, flags.clusterListen, flags.routes].filter(Boolean).length;
    if (clusterGiven !== 0 && clusterGiven !== 3) throw new Error('--cluster, --cluster-listen and --routes go together');
  });
  if (!line.ok) return line.exitCode;
  const flags = line.opts;
  const stacks: StackDefinition[] = [];
  try {
    for (const file of flags.stack) stacks.push(await loadStackFile(file));
  } catch (error) {
    console.error(`fslm nats-config: ${errorMessage(error)}`);
    return EXIT_USAGE;
  }
  const server: Omit<NatsServerConfigOptions, 'users'> = {
    serverName: flags.name, listen: flags.listen, monitor: flags.monitor,
    tls: flags.tlsCert ? { certFile: flags.tlsCert, keyFile: flags.tlsKey!, caFile: flags.tlsCa!, verifyClients: flags.tlsVerify ?? false } : undefined,
    cluster: flags.cluster ? { name: flags.cluster, listen: flags.clusterListen!, routes: flags.routes!.split(',').map((r) => r.trim()) } : undefined,
  };
  try {
    const config = stackNatsConfig(stacks, flags.keys, server, (file) => console.error(`fslm nats-config: made the seed ${file}`));
    console.log(JSON.stringify(config, null, 2));
    return 0;
  } catch (error) {
    console.error(`fslm nats-config: ${errorMessage(error)}`);
    return 1;
  }
}
