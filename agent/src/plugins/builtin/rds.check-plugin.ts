/** Built-in plugin `rds`: the code of check-images/rds, run in-process. */
export { default } from '../../../../check-images/rds/src/plugin.js';
