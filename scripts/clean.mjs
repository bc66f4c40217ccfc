// Removes the previous build, so files of modules that moved or went are never packed or shipped.
import { rmSync } from 'node:fs'
rmSync('dist', { recursive: true, force: true })
