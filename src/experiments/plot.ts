// PNG plots for docs/RESULTS.md: a self-contained HTML page draws the chart on a canvas and
// headless Chromium (playwright-core + the system chromium) screenshots it. No network, no
// external scripts. When no browser is available the plot is skipped with a note.
import { existsSync, mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';

export interface Series {
  label: string;
  points: [number, number][];
  /** x of a non-finite value: drawn as a red cross at the top */
  nanAt?: number | null;
  /** Series of one group share a colour and differ by dash pattern (arm = group, seed = member). */
  group?: string;
}
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: Series[];
  /** Category names for the x axis (x = 0..n-1), e.g. layer aliases. */
  xTicks?: string[];
  /** Dashed vertical markers, e.g. epoch starts: [x, label]. */
  vlines?: [number, string][];
  width?: number;
  height?: number;
}

export const CHROMIUM = process.env.NANSCOPE_CHROMIUM ?? '/usr/bin/chromium';

function size(c: Chart): { w: number; h: number; legend: number } {
  const longest = Math.max(10, ...c.series.map((s) => s.label.length + (s.nanAt != null ? 12 : 0)));
  const legend = Math.min(460, 60 + Math.ceil(longest * 6.6));
  return { w: c.width ?? 700 + legend, h: c.height ?? Math.max(420, 60 + c.series.length * 17), legend };
}

function page(c: Chart): string {
  const { w, h, legend } = size(c);
  return `<!doctype html><html><body style="margin:0;background:#fff"><canvas id="c" width="${w}" height="${h}"></canvas><script>
const C=${JSON.stringify(c)};const W=${w},H=${h};
const cv=document.getElementById('c'),g=cv.getContext('2d');
const L=70,R=${legend},T=36,B=48,pw=W-L-R,ph=H-T-B;
const fy=v=>C.logY?Math.log10(v):v;
const pts=C.series.flatMap(s=>s.points).filter(p=>Number.isFinite(p[1])&&(!C.logY||p[1]>0));
const nans=C.series.filter(s=>s.nanAt!=null).map(s=>s.nanAt);
let x0=Math.min(...pts.map(p=>p[0]),...nans),x1=Math.max(...pts.map(p=>p[0]),...nans);
let y0=Math.min(...pts.map(p=>fy(p[1]))),y1=Math.max(...pts.map(p=>fy(p[1])));
if(C.xTicks){x0=-0.5;x1=C.xTicks.length-0.5}
if(!(x1>x0)){x0-=1;x1+=1} if(!(y1>y0)){y0-=1;y1+=1}
if(C.logY){y0=Math.floor(y0);y1=Math.ceil(y1)}else{const m=(y1-y0)*0.05;y0-=m;y1+=m}
const X=x=>L+(x-x0)/(x1-x0)*pw,Y=v=>T+ph-(fy(v)-y0)/(y1-y0)*ph,Yr=r=>T+ph-(r-y0)/(y1-y0)*ph;
g.fillStyle='#fff';g.fillRect(0,0,W,H);g.font='13px sans-serif';g.fillStyle='#222';g.textAlign='center';
g.fillText(C.title,L+pw/2,20);g.fillText(C.xLabel,L+pw/2,H-10);
g.save();g.translate(16,T+ph/2);g.rotate(-Math.PI/2);g.fillText(C.yLabel,0,0);g.restore();
g.strokeStyle='#ddd';g.lineWidth=1;g.font='11px sans-serif';
const yt=[];if(C.logY){const st=Math.max(1,Math.ceil((y1-y0)/10));for(let e=y0;e<=y1;e+=st)yt.push(e)}else{for(let i=0;i<=5;i++)yt.push(y0+(y1-y0)*i/5)}
g.textAlign='right';for(const e of yt){const y=Yr(e);g.beginPath();g.moveTo(L,y);g.lineTo(L+pw,y);g.stroke();g.fillText(C.logY?'1e'+e:(+e.toPrecision(3)).toString(),L-6,y+4)}
g.textAlign='center';
if(C.xTicks){C.xTicks.forEach((t,i)=>g.fillText(t,X(i),T+ph+16))}else{const raw=(x1-x0)/6,p=Math.pow(10,Math.floor(Math.log10(raw))),st=Math.max(1,[1,2,5,10].map(m=>m*p).find(v=>v>=raw));for(let x=Math.ceil(x0/st)*st;x<=x1+1e-9;x+=st)g.fillText(String(+x.toPrecision(6)),X(x),T+ph+16)}
g.strokeStyle='#444';g.strokeRect(L,T,pw,ph);
for(const [x,t] of (C.vlines||[])){if(x<x0||x>x1)continue;g.strokeStyle='#999';g.setLineDash([3,3]);g.beginPath();g.moveTo(X(x),T);g.lineTo(X(x),T+ph);g.stroke();g.setLineDash([]);g.fillStyle='#777';g.textAlign='left';g.fillText(t,X(x)+3,T+ph-20);g.textAlign='center'}
const pal=['#1f77b4','#ff7f0e','#2ca02c','#9467bd','#8c564b','#e377c2','#17becf','#bcbd22','#7f7f7f','#d62728'];
let groups=[...new Set(C.series.map((s,i)=>s.group??String(i)))];if(groups.length===1){C.series.forEach((s,i)=>{s.group=String(i)});groups=C.series.map((s,i)=>String(i))}
const _g=groups,dashes=[[],[7,3],[2,3],[9,3,2,3],[4,4]],member={};
const styleOf=(s,i)=>{const k=s.group??String(i);member[k]=(member[k]??-1)+1;return{col:pal[groups.indexOf(k)%pal.length],dash:dashes[member[k]%dashes.length]}};
C.series.forEach((s,i)=>{const st=styleOf(s,i),col=st.col;s.dash=st.dash;g.strokeStyle=col;g.fillStyle=col;g.lineWidth=1.6;g.setLineDash(st.dash);
 g.beginPath();let on=false;for(const [x,v] of s.points){if(!Number.isFinite(v)||(C.logY&&v<=0)){on=false;continue}const px=X(x),py=Y(v);on?g.lineTo(px,py):g.moveTo(px,py);on=true}g.stroke();
 if(C.xTicks)for(const [x,v] of s.points){if(Number.isFinite(v)&&(!C.logY||v>0)){g.beginPath();g.arc(X(x),Y(v),3,0,7);g.fill()}}
 g.setLineDash([]);
 if(s.nanAt!=null){const px=X(s.nanAt),py=T+8;g.strokeStyle='#d62728';g.lineWidth=2;g.beginPath();g.moveTo(px-5,py-5);g.lineTo(px+5,py+5);g.moveTo(px+5,py-5);g.lineTo(px-5,py+5);g.stroke()}
 const ly=T+10+i*17;g.strokeStyle=col;g.lineWidth=2;g.setLineDash(s.dash);g.beginPath();g.moveTo(L+pw+12,ly);g.lineTo(L+pw+32,ly);g.stroke();g.setLineDash([]);
 g.fillStyle='#222';g.textAlign='left';g.fillText(s.label+(s.nanAt!=null?' (NaN @'+s.nanAt+')':''),L+pw+36,ly+4);g.textAlign='center'});
if(nans.length){g.fillStyle='#d62728';g.textAlign='right';g.fillText('x = first non-finite step',L+pw,H-10)}
document.title='done';
</script></body></html>`;
}

/** Renders the charts to PNG files (path -> chart). Returns the paths written, or a reason none were. */
export async function renderPngs(charts: { path: string; chart: Chart }[]): Promise<{ written: string[]; skipped: string | null }> {
  if (!charts.length) return { written: [], skipped: null };
  if (!existsSync(CHROMIUM)) return { written: [], skipped: `no browser at ${CHROMIUM} (set NANSCOPE_CHROMIUM)` };
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return { written: [], skipped: 'playwright-core is not installed' };
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const dir = mkdtempSync(join(tmpdir(), 'nanscope-plot-'));
  const written: string[] = [];
  try {
    const p = await browser.newPage();
    for (const [i, { path, chart }] of charts.entries()) {
      const html = join(dir, `p${i}.html`);
      writeFileSync(html, page(chart));
      const { w, h } = size(chart);
      await p.setViewportSize({ width: w, height: h });
      await p.goto(`file://${html}`);
      await p.waitForFunction(() => document.title === 'done');
      mkdirSync(dirname(path), { recursive: true });
      await p.locator('canvas').screenshot({ path });
      written.push(path);
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { written, skipped: null };
}
