/** Built-in plugin `vmi`: the code of check-images/vmi, run in-process. */
export { default } from '../../../../check-images/vmi/src/plugin.js';
