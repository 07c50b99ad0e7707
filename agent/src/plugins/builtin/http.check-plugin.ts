/** Built-in plugin `http`: the code of check-images/http, run in-process. */
export { default } from '../../../../check-images/http/src/plugin.js';
