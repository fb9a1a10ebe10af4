export async function runChaos(_argv: string[]): Promise<number> { return 2; }
