// HOST:PORT strings as the command line takes them.

export interface HostPort {
  host: string;
  port: number;
}

export function splitHostPort(address: string, flag = 'address'): HostPort {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} must be HOST:PORT, got ${JSON.stringify(address)}`);
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
