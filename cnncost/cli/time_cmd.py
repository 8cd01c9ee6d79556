"""`cnncost time`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options
from .options import (
    DTYPES,
    emit,
    format_option,
    hardware_options,
    output_option,
    shape_options,
    storage_dtype,
)


@cli.command(
    name="time",
    epilog="""\b
Examples:
  cnncost time resnet50 --device cuda --batch 32 --dtype bf16
  cnncost time resnet50 --device cuda --batch 256 --dtype bf16 --backward --compile
  cnncost time mobilenet_v2 --device cuda --layers        which layers miss their roofline
  cnncost time vgg16 --batch 8 --runs 5                    on the CPU
  cnncost time resnet50 --device cuda --batch 64 --backward --optimizer adam --amp

Needs PyTorch: pip install 'cnncost[torch]'. fp32 is strict fp32 (TF32 off); ask for
tf32 to let convolutions and matmuls use TF32 tensor cores. On the CPU the roofline is
this machine's, measured first with three short kernels (matrix product, element-wise,
memory copy); --hardware NAME uses a table entry instead. On a GPU it is the datasheet's.""",
)
@click.argument("model")
@click.option(
    "--device",
    type=click.Choice(("cpu", "cuda")),
    default="cpu",
    show_default=True,
    help="Where to run.",
)
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="fp32",
    show_default=True,
    help="Weights, inputs and arithmetic in this type.",
)
@click.option("--backward", is_flag=True, help="Time forward + backward (a training step).")
@click.option(
    "--optimizer",
    type=click.Choice(("sgd", "momentum", "adam", "adamw")),
    help="With --backward: step this optimizer too; its state enters the measured and the "
    "predicted peak (docs/training.md).",
)
@click.option(
    "--amp",
    is_flag=True,
    help="With --backward: the forward under torch.autocast (bf16), fp32 weights; keep "
    "--dtype fp32.",
)
@click.option("--compile", "compiled", is_flag=True, help="Run through torch.compile.")
@click.option("--channels-last", is_flag=True, help="NHWC memory format for weights and input.")
@click.option(
    "--runs", type=click.IntRange(min=1), default=10, show_default=True, help="Timed runs."
)
@click.option(
    "--warmup", type=click.IntRange(min=0), default=3, show_default=True, help="Untimed runs first."
)
@click.option(
    "--layers",
    "per_layer",
    is_flag=True,
    help="Also time each layer's forward alone, beside its roofline.",
)
@hardware_options
@format_option(("text", "json"))
@shape_options
@output_option
@table_options
def time_cmd(
    model,
    device,
    batch,
    dtype,
    backward,
    optimizer,
    amp,
    compiled,
    channels_last,
    runs,
    warmup,
    per_layer,
    hardware,
    hardware_file,
    fmt,
    input_shape,
    output,
) -> None:
    """Measure MODEL in torch: median time, spread, images/s, peak memory, vs the roofline."""
    from ..backend import allocation_errors, require_torch

    require_torch()
    if (optimizer or amp) and not backward:
        raise click.UsageError("--optimizer and --amp need --backward")
    if amp and dtype != "fp32":
        raise click.UsageError("--amp keeps fp32 weights and autocasts to bf16: leave --dtype fp32")
    from .. import build_graph
    from ..backend.timing import check_device, time_graph
    from ..hardware import hardware_table, pick_hardware
    from ..memory import estimate_memory, training_memory
    from ..render.measure import timing_json, timing_text
    from ..render.progress import progress_bar
    from ..report import analyze_graph
    from ..roofline import roofline as predict
    from ..training import TrainOptions, analyze_training

    check_device(device)
    graph = build_graph(model, input_shape=input_shape, batch=batch)
    report = analyze_graph(graph, storage_dtype(dtype))
    detected = None
    if device == "cuda":
        import torch

        detected = torch.cuda.get_device_name()
    if device == "cpu" and hardware is None:
        from ..backend.calibrate import measure_cpu

        hw = measure_cpu(dtype)  # this machine, not a datasheet's idea of a CPU
    else:
        hw = pick_hardware(hardware, hardware_table(hardware_file), detected)
    training = None
    if backward:
        options = TrainOptions(optimizer or "sgd", amp, device=device)
        training = analyze_training(graph, report, options)
    rl = predict(report, hw, dtype, training)
    with allocation_errors(graph.model), progress_bar(f"timing {graph.model}") as progress:
        timing = time_graph(
            graph,
            device=device,
            dtype=dtype,
            backward=backward,
            compile=compiled,
            channels_last=channels_last,
            warmup=warmup,
            runs=runs,
            per_layer=per_layer,
            progress=progress,
            optimizer=optimizer,
            amp=amp,
        )
    memory = training_memory(training) if training is not None else estimate_memory(report)
    if fmt == "json":
        text = timing_json(timing, rl, memory)
    else:
        layer_rl = predict(report, hw, dtype) if backward else None
        text = timing_text(timing, rl, memory, layer_rl)
    emit(text, output)
