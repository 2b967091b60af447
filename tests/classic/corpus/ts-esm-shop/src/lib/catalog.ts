import { readFile } from 'node:fs/promises'
import path from 'node:path'

export type Catalog = Record<string, number>

export const dataDir: string = path.join(import.meta.dirname, '..', '..', 'data')

// Top-level await: the catalog is read once, when the module loads.
export const catalog: Catalog = JSON.parse(
  await readFile(new URL('../../data/catalog.json', import.meta.url), 'utf8'),
)

export function priceOf(sku: string): number {
  const price = catalog[sku]
  if (price === undefined) throw new Error(`unknown sku ${sku}`)
  return price
}
